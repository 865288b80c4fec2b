import type { AddressInfo } from 'node:net';
import type { EventBus } from '@gatehouse/event-bus';
import { TrustedProxies } from '@gatehouse/http';
import type { ProjectionRunnerOptions } from '@gatehouse/projections';
import { defaultRateLimitConfig, type RateLimitConfig } from '@gatehouse/rate-limits';
import {
  directoryFixtures,
  startOAuthBackbone,
  type TestStack,
  testTenancy,
} from '@gatehouse/test-stacks';
import { testGrpcTls } from '@gatehouse/testkit';
import { createTokenService, serveTokenService } from '../app.js';

export const tenancy = testTenancy;

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the tests' expectations
  body: any;
}

export async function startToken(
  stack: TestStack,
  cleanups: (() => Promise<void>)[],
  options: {
    /** The clock of the token service, the projector's beacon and the fixtures. */
    now?: () => number;
    maxProjectionLagMs?: number;
    /** The request budgets; default the deployment's defaults. */
    rateLimits?: RateLimitConfig;
    /** Whose X-Forwarded-For is believed; default loopback, so tests can present sources. */
    trustedProxies?: TrustedProxies;
    /** The token service's own view of the log (a fault injected there); default the backbone's. */
    tokenBus?: (bus: EventBus) => EventBus;
  } & Pick<ProjectionRunnerOptions, 'beforeApply'> = {},
) {
  const { bus, store, rateLimiter, runner, keks, ring, logs, log } = await startOAuthBackbone(
    stack,
    cleanups,
    {
      ...(options.beforeApply ? { beforeApply: options.beforeApply } : {}),
      ...(options.now ? { now: options.now } : {}),
    },
  );
  const service = createTokenService({
    bus: options.tokenBus ? options.tokenBus(bus) : bus,
    store,
    ring,
    keks,
    tenancy,
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxProjectionLagMs ? { maxProjectionLagMs: options.maxProjectionLagMs } : {}),
    rateLimiter: rateLimiter(options.rateLimits ?? defaultRateLimitConfig),
    trustedProxies: options.trustedProxies ?? new TrustedProxies(['127.0.0.1', '::1']),
    // The tests serve clients' key sets on loopback.
    jwksUriHttpLoopback: true,
    log,
  });
  await service.start();
  cleanups.push(() => service.stop());
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const grpc = await serveTokenService(
    service.tokenService,
    '127.0.0.1:0',
    await testGrpcTls('token'),
  );
  cleanups.push(() => grpc.close());

  const { caughtUp, appendDirectory, newTenant, newServer, newClient, newUser, assign, issueCode } =
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
    newServer,
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
