// Starts the keys service with a projector on a given bus and store, and makes tenants the way the
// admin service does (the directory's own deciders, appended to gatehouse.directory).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { decideNewTenant, directoryProjection, type TenancyConfig } from '@gatehouse/directory';
import type { EventPosition } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { ProjectionRunner, waitForProjections } from '@gatehouse/projections';
import {
  KeyRing,
  keysProjection,
  loadServerKeys,
  newKekSetting,
  parseKeks,
  storeKeySource,
} from '@gatehouse/signing-keys';
import { appendDirectoryEvents, type TestStack } from '@gatehouse/test-stacks';
import { testClock, testGrpcTls } from '@gatehouse/testkit';
import { createKeysService, type KeysDeps, type KeysService } from '../app.js';
import { serveKeyService } from '../grpc/key-service.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the tests' expectations
  body: any;
}

export const tenancy: TenancyConfig = { mode: 'path', publicUrl: new URL('http://localhost:9000') };

/** A clock that stands still until the test moves it, as the keys service reads one (a Date). */
export function manualClock(start = Date.parse('2026-11-23T12:00:00Z')) {
  const clock = testClock(start);
  return { now: () => new Date(clock.now()), advance: clock.advance };
}

export async function startKeys(
  stack: TestStack,
  cleanups: (() => Promise<void>)[],
  options: Partial<
    Pick<
      KeysDeps,
      | 'rotationPeriodMs'
      | 'maxTokenLifetimeMs'
      | 'now'
      | 'scheduleIntervalMs'
      | 'jwksMaxAgeSeconds'
      | 'keyPool'
    >
  > & {
    replicas?: number;
  } = {},
) {
  const { bus, store, close } = await stack.open();
  cleanups.push(close);
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const projections = [directoryProjection, keysProjection];
  const runner = await ProjectionRunner.start({
    bus,
    store,
    projections,
    groupId: `projector-${randomUUID()}`,
  });
  cleanups.push(() => runner.stop());
  const kekSetting = newKekSetting('kek-test');
  const keks = parseKeks(kekSetting);
  const logs: string[] = [];
  const groupId = `keys-${randomUUID()}`;
  const replicas: KeysService[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) {
    const service = createKeysService({
      bus,
      store,
      keks,
      tenancy,
      groupId,
      followFrom: 'latest',
      // By default the schedule is run by hand (runSchedule), so tests decide when it runs.
      scheduleIntervalMs: options.scheduleIntervalMs ?? 3_600_000,
      rotationPeriodMs: options.rotationPeriodMs,
      maxTokenLifetimeMs: options.maxTokenLifetimeMs,
      jwksMaxAgeSeconds: options.jwksMaxAgeSeconds,
      keyPool: options.keyPool,
      now: options.now,
      log: (entry) => logs.push(JSON.stringify(entry)),
    });
    await service.start();
    cleanups.push(() => service.stop());
    replicas.push(service);
  }
  const keys = replicas[0]!;
  const server = keys.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const grpc = await serveKeyService(keys.keyService, '127.0.0.1:0', await testGrpcTls('keys'));
  cleanups.push(() => grpc.close());
  const ring = new KeyRing(storeKeySource(store), keks);
  await ring.follow(bus);
  cleanups.push(() => ring.close());

  const get = async (path: string, token?: string): Promise<ApiResponse> => {
    const response = await fetch(`${base}${path}`, {
      headers: token ? { authorization: `SSWS ${token}` } : {},
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
  const post = async (path: string, body: unknown, token?: string): Promise<ApiResponse> => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `SSWS ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };

  /** Every event appended so far to the topics this projector reads, applied by it. */
  const caughtUp = async () => {
    const positions: EventPosition[] = [];
    for (const topic of [...new Set(projections.flatMap((projection) => projection.topics))]) {
      for (const [partition, end] of await bus.endOffsets(topic)) {
        if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
      }
    }
    await waitForProjections(store, positions, { timeoutMs: 20_000 });
  };

  /** A tenant with its default server, as the admin service makes it; resolves once both have keys. */
  const newTenant = async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const apiToken = randomBytes(32).toString('base64url');
    const apiTokenSha256 = createHash('sha256').update(apiToken).digest('hex');
    const changes = decideNewTenant(
      { id, name: `Tenant ${id}`, apiTokenSha256 },
      { status: 'NONE' },
    );
    await appendDirectoryEvents(bus, id, changes);
    await until(async () => {
      const [org, custom] = await Promise.all([
        loadServerKeys(store, id, 'org'),
        loadServerKeys(store, id, 'default'),
      ]);
      return org.active !== undefined && custom.active !== undefined;
    });
    return { id, apiToken };
  };

  return {
    bus,
    store,
    runner,
    keks,
    keys,
    replicas,
    base,
    grpcPort: grpc.port,
    ring,
    logs,
    get,
    post,
    caughtUp,
    newTenant,
  };
}

/** Polls `condition` until it holds (20 s at most). */
export async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
