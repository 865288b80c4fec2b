// `pnpm bench:admin`, new tenants (issue 15): from a tenant's creation to its first token, with the
// keys service's key pool, on Kafka + Redis and on the embedded log + in-memory store. Admin, keys,
// token and projector run in this process as their libraries (the services' own code). Printed: the
// pool's size and how fast its worker threads fill it (keys/s over all of them) next to one thread
// generating alone, measured in the same run; and, for new tenants created while the pool lasts and
// after it is exhausted, the creation's own latency and the time from its answer to the tenant's
// first token (a client, a scope and a client_credentials token: three calls a new tenant's first
// app makes), p50 and p99. Target: within 100 ms while the pool lasts. Requests go to 127.0.0.1
// only, a bounded number of them, and the run stops itself after 5 minutes.
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminApp } from '@gatehouse/admin';
import type { TenancyConfig } from '@gatehouse/directory';
import { EmbeddedEventBus, type EventBus, KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { createKeysService } from '@gatehouse/keys';
import {
  GenerationalStore,
  MemoryProjectionStore,
  type ProjectionStore,
  RedisProjectionStore,
} from '@gatehouse/projection-store';
import { readModelsLagMs } from '@gatehouse/projections';
import { createProjector } from '@gatehouse/projector';
import {
  KeyPool,
  KeyRing,
  keyPoolKeys,
  newKekSetting,
  parseKeks,
  rsaKeyParameters,
  storeKeySource,
} from '@gatehouse/signing-keys';
import { acquireInfrastructure } from '@gatehouse/testkit';
import { createTokenService } from '@gatehouse/token';
import { upstreamOf } from '@gatehouse/topology';

/** Keys in the pool: four per tenant (two servers, an active and a next key each). */
const POOL = 48;
const TENANTS_FROM_POOL = 10;
const TENANTS_ON_DEMAND = 5;
const ONE_THREAD_KEYS = 8;
const THREADS = availableParallelism();

interface Row {
  stack: string;
  measure: string;
  p50: string;
  p99: string;
  note: string;
}
const rows: Row[] = [];
const ms = (value: number) => `${value.toFixed(1)} ms`;
const quantile = (times: number[], q: number) =>
  [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(times.length * q))]!;

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One thread generating RSA-2048 keys alone, one after the other: keys/s. */
function oneThreadRate(): number {
  const started = performance.now();
  for (let i = 0; i < ONE_THREAD_KEYS; i++) generateKeyPairSync('rsa', rsaKeyParameters);
  return (ONE_THREAD_KEYS / (performance.now() - started)) * 1000;
}

async function benchStack(stack: string, bus: EventBus, store: ProjectionStore, baseline: number) {
  const tenancy: TenancyConfig = { mode: 'path', publicUrl: new URL('http://localhost:9000') };
  const stops: (() => Promise<unknown>)[] = [];
  try {
    await bus.ensureTopics(allTopics.map((name) => ({ name })));
    const projector = createProjector({ bus, store, groupId: `bench-${randomUUID()}` });
    await projector.start();
    stops.push(() => projector.stop());
    await until(
      async () => (await readModelsLagMs(store).catch(() => undefined)) !== undefined,
      120_000,
      'the read models',
    );

    const keks = parseKeks(newKekSetting('kek-bench'));
    const quiet = () => {};
    const keys = createKeysService({
      bus,
      store,
      keks,
      tenancy,
      groupId: `bench-keys-${randomUUID()}`,
      followFrom: 'latest',
      keyPool: { size: POOL, threads: THREADS },
      log: quiet,
    });
    const pool = new KeyPool(store, keks);
    const filling = performance.now();
    await keys.start();
    stops.push(() => keys.stop());
    await until(async () => (await pool.size()) >= POOL, 120_000, 'the key pool');
    const fillRate = (POOL / (performance.now() - filling)) * 1000;
    rows.push({
      stack,
      measure: `key pool of ${POOL}: filled by ${THREADS} worker threads at ${fillRate.toFixed(1)} keys/s`,
      p50: '',
      p99: '',
      note: `${(fillRate / baseline).toFixed(2)}x one thread alone (${baseline.toFixed(1)} keys/s)`,
    });

    const ring = new KeyRing(storeKeySource(store), keks);
    await ring.follow(bus);
    stops.push(() => ring.close());
    const token = createTokenService({ bus, store, ring, keks, tenancy, log: quiet });
    await token.start();
    stops.push(() => token.stop());
    const adminToken = randomUUID() + randomUUID();
    const admin = createAdminApp({
      bus,
      store,
      keks,
      tenancy,
      adminTokenSha256: createHash('sha256').update(adminToken).digest('hex'),
      log: quiet,
    });
    const handlers = {
      admin: admin.callback(),
      keys: keys.app.callback(),
      token: token.app.callback(),
    } as const;
    const server: Server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const upstream = upstreamOf(path);
      if (upstream in handlers) return handlers[upstream as keyof typeof handlers](req, res);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const send = async (path: string, authorization: string, body: unknown, form = false) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        },
        body: form
          ? new URLSearchParams(body as Record<string, string>).toString()
          : JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the API's JSON bodies, read by field
      const json = (await response.json()) as any;
      if (response.status >= 300)
        throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };

    /** Creates a tenant, then its first app gets its first token: the two times, in ms. */
    const newTenant = async () => {
      const id = `bench-${randomUUID().slice(0, 8)}`;
      const started = performance.now();
      const { apiToken } = await send('/api/v1/tenants', `SSWS ${adminToken}`, { id, name: id });
      const created = performance.now();
      const sswsToken = `SSWS ${apiToken}`;
      const client = await send(`/${id}/oauth2/v1/clients`, sswsToken, {
        client_name: 'First app',
        application_type: 'service',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      await send(`/${id}/api/v1/authorizationServers/default/scopes`, sswsToken, {
        name: 'orders.read',
      });
      const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
      const issued = await send(
        `/${id}/oauth2/default/v1/token`,
        `Basic ${basic}`,
        { grant_type: 'client_credentials', scope: 'orders.read' },
        true,
      );
      if (typeof issued.access_token !== 'string') throw new Error('no access token');
      return { creation: created - started, firstToken: performance.now() - created };
    };

    const phase = async (label: string, count: number) => {
      const before = { ...keys.keeper.keySources };
      const creation: number[] = [];
      const firstToken: number[] = [];
      for (let i = 0; i < count; i++) {
        const times = await newTenant();
        creation.push(times.creation);
        firstToken.push(times.firstToken);
      }
      const pooled = keys.keeper.keySources.pool - before.pool;
      const generated = keys.keeper.keySources.onDemand - before.onDemand;
      const note = `${count} tenants, keys: ${pooled} pooled, ${generated} generated on demand`;
      rows.push({
        stack,
        measure: `${label}: tenant creation (answers once its servers have keys)`,
        p50: ms(quantile(creation, 0.5)),
        p99: ms(quantile(creation, 0.99)),
        note,
      });
      rows.push({
        stack,
        measure: `${label}: creation answered -> first token (client, scope, token)`,
        p50: ms(quantile(firstToken, 0.5)),
        p99: ms(quantile(firstToken, 0.99)),
        note: quantile(firstToken, 0.99) <= 100 ? 'within the 100 ms target' : 'over 100 ms',
      });
    };
    await phase('while the pool lasts', TENANTS_FROM_POOL);
    // Exhausted: nothing refills it any more, and what is left is gone.
    await keys.poolFiller!.stop();
    await store.del([keyPoolKeys.kids()]);
    await phase('pool exhausted', TENANTS_ON_DEMAND);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}

const deadline = setTimeout(() => {
  console.error('bench:admin (new tenants): stopped after 5 minutes');
  process.exit(2);
}, 5 * 60_000);
deadline.unref();

const baseline = oneThreadRate();
const infrastructure = await acquireInfrastructure((line) => console.error(line));
const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-tenants-'));
try {
  const kafka = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-tenants',
    log: () => {},
  });
  const redis = new GenerationalStore(
    new RedisProjectionStore({
      url: infrastructure.redis.url,
      keyPrefix: `bench:${randomUUID()}:`,
    }),
  );
  await benchStack(
    `kafka ${infrastructure.kafka.version} + redis ${infrastructure.redis.version}`,
    kafka,
    redis,
    baseline,
  );
  await redis.base.deleteByPrefix('');
  await Promise.all([kafka.close(), redis.close()]);
  const embedded = await EmbeddedEventBus.open({ dir });
  const memory = new GenerationalStore(new MemoryProjectionStore());
  await benchStack('embedded log + memory store', embedded, memory, baseline);
  await Promise.all([embedded.close(), memory.close()]);

  const widths = { stack: 0, measure: 0, p50: 0, p99: 0, note: 0 };
  const header: Row = { stack: 'stack', measure: 'measure', p50: 'p50', p99: 'p99', note: 'note' };
  for (const row of [header, ...rows])
    for (const key of Object.keys(widths) as (keyof Row)[])
      widths[key] = Math.max(widths[key], row[key].length);
  const line = (r: Row) =>
    `| ${r.stack.padEnd(widths.stack)} | ${r.measure.padEnd(widths.measure)} | ${r.p50.padStart(widths.p50)} | ${r.p99.padStart(widths.p99)} | ${r.note.padEnd(widths.note)} |`;
  console.log(
    `\nbench:admin, new tenants, on ${process.version}, ${availableParallelism()} cores, ${new Date().toISOString()}`,
  );
  console.log(line(header));
  console.log(
    `|${Object.values(widths)
      .map((w) => '-'.repeat(w + 2))
      .join('|')}|`,
  );
  for (const row of rows) console.log(line(row));
} finally {
  await rm(dir, { recursive: true, force: true });
  await infrastructure.stop();
}
