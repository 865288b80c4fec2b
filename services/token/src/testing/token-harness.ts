// Starts the token service with a projector on a given bus and store, and sets up what it needs the
// way the other services would: tenants, users and clients through the directory's own deciders,
// signing keys through the keys' decider, authorization codes as the authorize service writes them.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { directoryProjection, type TenancyConfig } from '@gatehouse/directory';
import { allTopics } from '@gatehouse/events';
import { grantsProjection, invalidationProjection } from '@gatehouse/grants';
import { ProjectionRunner } from '@gatehouse/projections';
import {
  KeyRing,
  keysProjection,
  newKekSetting,
  parseKeks,
  storeKeySource,
} from '@gatehouse/signing-keys';
import { directoryFixtures, type TestStack } from '@gatehouse/test-stacks';
import { createTokenService, serveTokenService } from '../app.js';

export const tenancy: TenancyConfig = { mode: 'path', publicUrl: new URL('http://localhost:9000') };

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the tests' expectations
  body: any;
}

export async function startToken(
  stack: TestStack,
  cleanups: (() => Promise<void>)[],
  options: { now?: () => number } = {},
) {
  const { bus, store, close } = await stack.open();
  cleanups.push(close);
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const runner = await ProjectionRunner.start({
    bus,
    store,
    projections: [directoryProjection, keysProjection, grantsProjection, invalidationProjection],
    groupId: `projector-${randomUUID()}`,
  });
  cleanups.push(() => runner.stop());
  const keks = parseKeks(newKekSetting('kek-test'));
  const ring = new KeyRing(storeKeySource(store), keks);
  await ring.follow(bus);
  cleanups.push(() => ring.close());
  const logs: string[] = [];
  const service = createTokenService({
    bus,
    store,
    ring,
    tenancy,
    ...(options.now ? { now: options.now } : {}),
    log: (entry) => logs.push(JSON.stringify(entry)),
  });
  await service.start();
  cleanups.push(() => service.stop());
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const grpc = await serveTokenService(service.tokenService, '127.0.0.1:0');
  cleanups.push(() => grpc.close());

  const { caughtUp, appendDirectory, newTenant, newClient, newUser, assign, issueCode } =
    directoryFixtures({ bus, store, keks, ...(options.now ? { now: options.now } : {}) });

  const post = async (
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };

  return {
    bus,
    store,
    ring,
    runner,
    keks,
    base,
    grpcPort: grpc.port,
    logs,
    service,
    caughtUp,
    newTenant,
    newClient,
    newUser,
    assign,
    issueCode,
    post,
    appendDirectory,
  };
}

export const basic = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
