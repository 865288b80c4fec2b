// Starts the admin app with a projector on a given bus and store, for the API suites.
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { directoryProjection } from '@gatehouse/directory';
import type { EventPosition } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { type Projection, ProjectionRunner, waitForProjections } from '@gatehouse/projections';
import { defaultRateLimitConfig, type RateLimitConfig } from '@gatehouse/rate-limits';
import { newKekSetting, parseKeks } from '@gatehouse/signing-keys';
import type { TestStack } from '@gatehouse/test-stacks';
import { createAdminApp } from '../app.js';

/** The bus and store an admin suite runs on. */
export type AdminHarness = TestStack;

export const adminToken = `test-admin-token-${'x'.repeat(32)}`;
const adminTokenSha256 = createHash('sha256').update(adminToken).digest('hex');

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the tests' expectations
  body: any;
}

export type Call = (
  method: string,
  path: string,
  body?: unknown,
  token?: string | null,
) => Promise<ApiResponse>;

export async function startAdmin(
  harness: AdminHarness,
  cleanups: (() => Promise<void>)[],
  options: {
    projector?: boolean;
    readYourWritesMs?: number;
    /** Admin apps sharing the bus and store, as replicas do; `callOn(i)` calls the i-th. */
    replicas?: number;
    /** The read models the projector keeps. Default: the directory's. */
    projections?: readonly Projection[];
    /** The request budgets; default the deployment's defaults. Replicas share one limiter. */
    rateLimits?: RateLimitConfig;
  } = {},
) {
  const { bus, store, rateLimiter, close } = await harness.open();
  const limiter = rateLimiter(options.rateLimits ?? defaultRateLimitConfig);
  cleanups.push(close);
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  let runner: ProjectionRunner | undefined;
  const projections = options.projections ?? [directoryProjection];
  if (options.projector !== false) {
    runner = await ProjectionRunner.start({
      bus,
      store,
      projections,
      groupId: `projector-${randomUUID()}`,
    });
    cleanups.push(() => runner!.stop());
  }
  /** Waits until the projector has applied everything in its topics so far. */
  const caughtUp = async () => {
    const positions: EventPosition[] = [];
    for (const topic of directoryProjection.topics) {
      for (const [partition, end] of await bus.endOffsets(topic)) {
        if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
      }
    }
    await waitForProjections(store, positions, { timeoutMs: 20_000 });
  };
  // The topics may hold other suites' events (one broker for all): a test starts once they are
  // applied, so that its own writes are not waiting behind them.
  if (runner) await caughtUp();

  /** The KEK the replicas seal client secrets under, as the token service would open them. */
  const keks = parseKeks(newKekSetting());
  /** What the admin apps logged (conflicts, retries, errors). */
  const logs: Record<string, unknown>[] = [];
  const bases: string[] = [];
  for (let replica = 0; replica < (options.replicas ?? 1); replica++) {
    const app = createAdminApp({
      bus,
      store,
      tenancy: { mode: 'path', publicUrl: new URL('http://localhost:9000') },
      adminTokenSha256,
      keks,
      readYourWritesMs: options.readYourWritesMs ?? 10_000,
      // The admin alone: no keys service gives new servers keys.
      signingKeysWaitMs: 0,
      rateLimiter: limiter,
      scryptCost: { log2N: 12, r: 8, p: 1 }, // the production cost is tested in the domain package
      log: (entry) => {
        logs.push({ replica, ...entry });
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  const base = bases[0]!;
  const callOn =
    (replica: number): Call =>
    async (method, path, body, token = adminToken) => {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `SSWS ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${bases[replica % bases.length]}${path}`, {
        method,
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? JSON.parse(text) : undefined,
      };
    };
  const call = callOn(0);
  /** Creates a tenant; `as` calls its org API with its own API token. */
  const newTenant = async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const created = await call('POST', '/api/v1/tenants', { id, name: `Tenant ${id}` });
    if (created.status !== 201)
      throw new Error(`tenant not created: ${JSON.stringify(created.body)}`);
    const asOn =
      (replica: number): Call =>
      (method, path, body, token = created.body.apiToken) =>
        callOn(replica)(method, `/${id}${path}`, body, token);
    return { id, apiToken: created.body.apiToken as string, as: asOn(0), asOn };
  };
  return {
    bus,
    store,
    keks,
    call,
    callOn,
    runner,
    projections,
    caughtUp,
    base,
    newTenant,
    logs,
  };
}
