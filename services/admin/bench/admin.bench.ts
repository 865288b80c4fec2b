// `pnpm bench:admin`: management API throughput and projection replay rate, on Kafka + Redis and on
// the embedded log + in-memory store, each next to a baseline measured in the same run; and writes
// under contention (SPEC section 1): one hot aggregate with 16 concurrent writers over two admin
// replicas, and 16 writers on as many aggregates, next to one writer alone, with the attempts that
// lost a race (and were decided again) and the 409s. Requests go to 127.0.0.1 only, a bounded number
// of them, and the whole run stops itself after 5 minutes.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryProjection, hashPassword, keys } from '@gatehouse/directory';
import { EmbeddedEventBus, type EventBus, KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics, newEnvelope, Topics } from '@gatehouse/events';
import {
  MemoryProjectionStore,
  type ProjectionStore,
  RedisProjectionStore,
} from '@gatehouse/projection-store';
import { ProjectionRunner, rebuildProjections } from '@gatehouse/projections';
import { memoryRateLimiter, raisedRateLimits } from '@gatehouse/rate-limits';
import { newKekSetting, parseKeks } from '@gatehouse/signing-keys';
import { acquireInfrastructure } from '@gatehouse/testkit';
import { createAdminApp } from '../src/app.js';

const CONCURRENCY = 16;
const WRITES = 1500;
const READS = 4000;
const USERS_WITH_PASSWORDS = 24;
/** Profile updates per contention measure. */
const UPDATES = 400;

interface Row {
  stack: string;
  measure: string;
  rate: string;
  p99: string;
  vsBaseline: string;
}
const rows: Row[] = [];
const perSecond = (count: number, ms: number) =>
  `${Math.round((count / ms) * 1000).toLocaleString('en')}/s`;
const p99 = (times: number[]) =>
  `${[...times].sort((a, b) => a - b)[Math.floor(times.length * 0.99)]!.toFixed(1)} ms`;

/** Runs `count` calls of `task`, `CONCURRENCY` at a time; returns elapsed ms and per-call times. */
async function load(count: number, task: (i: number) => Promise<void>, concurrency = CONCURRENCY) {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await task(i);
        times.push(performance.now() - t);
      }
    }),
  );
  return { ms: performance.now() - started, times };
}

async function benchStack(stack: string, bus: EventBus, store: ProjectionStore) {
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const runner = await ProjectionRunner.start({
    bus,
    store,
    projections: [directoryProjection],
    groupId: `bench-${randomUUID()}`,
  });
  const adminToken = randomUUID() + randomUUID();
  /** Commands that lost a race and were decided again, over both replicas. */
  let lostRaces = 0;
  const servers = [];
  const bases: string[] = [];
  for (let replica = 0; replica < 2; replica++) {
    const app = createAdminApp({
      bus,
      store,
      keks: parseKeks(newKekSetting('kek-bench')),
      tenancy: { mode: 'path', publicUrl: new URL('http://localhost:9000') },
      adminTokenSha256: createHash('sha256').update(adminToken).digest('hex'),
      // The admin and the projector alone: no keys service gives new servers keys.
      signingKeysWaitMs: 0,
      // The bench's one tenant token sends more than a deployment's default budget allows.
      rateLimiter: memoryRateLimiter(raisedRateLimits()),
      log: (entry) => {
        if (entry.message.includes('lost a race')) lostRaces += 1;
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  /** A call to replica `replica` (0 unless told); its status and JSON body. */
  const send = async (method: string, path: string, token: string, body?: unknown, replica = 0) => {
    const response = await fetch(`${bases[replica]}${path}`, {
      method,
      headers: {
        authorization: `SSWS ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    // biome-ignore lint/suspicious/noExplicitAny: the API's JSON bodies, read by field
    return { status: response.status, json: (await response.json()) as any };
  };
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const { status, json } = await send(method, path, token, body);
    if (status >= 300) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json)}`);
    return json;
  };
  const tenant = `bench-${randomUUID().slice(0, 8)}`;
  const { apiToken } = await call('POST', '/api/v1/tenants', adminToken, {
    id: tenant,
    name: 'Bench',
  });

  // Baseline for writes: appending one event and nothing else, at the same concurrency.
  const raw = await load(WRITES, async (i) => {
    await bus.publish(Topics.grants, [
      newEnvelope({
        type: 'gatehouse.bench.v1.Raw',
        tenant,
        aggregateId: String(i),
        data: new Uint8Array(64),
      }),
    ]);
  });
  rows.push({
    stack,
    measure: 'baseline: publish one event (acknowledged)',
    rate: perSecond(WRITES, raw.ms),
    p99: p99(raw.times),
    vsBaseline: 'baseline',
  });
  // A management write: validate, read its streams, decide, append, wait for the verdict, read back.
  const writes = await load(WRITES, async (i) => {
    await call('POST', `/${tenant}/api/v1/groups`, apiToken, { profile: { name: `group-${i}` } });
  });
  rows.push({
    stack,
    measure: 'POST /api/v1/groups (read-your-writes)',
    rate: perSecond(WRITES, writes.ms),
    p99: p99(writes.times),
    vsBaseline: `${(raw.ms / writes.ms).toFixed(2)}x`,
  });

  const users: string[] = [];
  const scryptOnly = await load(
    USERS_WITH_PASSWORDS,
    async () => {
      await hashPassword('Correct-Horse-9');
    },
    4,
  );
  rows.push({
    stack,
    measure: 'baseline: scrypt hash (N=2^15, r=8, p=3)',
    rate: perSecond(USERS_WITH_PASSWORDS, scryptOnly.ms),
    p99: p99(scryptOnly.times),
    vsBaseline: 'baseline',
  });
  const userWrites = await load(
    USERS_WITH_PASSWORDS,
    async (i) => {
      const user = await call('POST', `/${tenant}/api/v1/users`, apiToken, {
        profile: {
          login: `user${i}@example.com`,
          email: `user${i}@example.com`,
          firstName: 'Bench',
          lastName: String(i),
        },
        credentials: { password: { value: 'Correct-Horse-9' } },
      });
      users.push(user.id);
    },
    4,
  );
  rows.push({
    stack,
    measure: 'POST /api/v1/users with a password',
    rate: perSecond(USERS_WITH_PASSWORDS, userWrites.ms),
    p99: p99(userWrites.times),
    vsBaseline: `${(scryptOnly.ms / userWrites.ms).toFixed(2)}x`,
  });

  const rawReads = await load(READS, async (i) => {
    await store.hgetall(keys.user(tenant, users[i % users.length]!));
  });
  rows.push({
    stack,
    measure: 'baseline: read one user hash from the store',
    rate: perSecond(READS, rawReads.ms),
    p99: p99(rawReads.times),
    vsBaseline: 'baseline',
  });
  const reads = await load(READS, async (i) => {
    await call('GET', `/${tenant}/api/v1/users/${users[i % users.length]}`, apiToken);
  });
  rows.push({
    stack,
    measure: 'GET /api/v1/users/{id}',
    rate: perSecond(READS, reads.ms),
    p99: p99(reads.times),
    vsBaseline: `${(rawReads.ms / reads.ms).toFixed(2)}x`,
  });

  // Contention: partial profile updates, each setting one attribute, on one user or on many.
  const newUser = async (login: string) =>
    (
      await call('POST', `/${tenant}/api/v1/users?activate=false`, apiToken, {
        profile: { login, email: login, firstName: 'Hot', lastName: 'Spot' },
      })
    ).id as string;
  const hot = [await newUser('hot@example.com')];
  const many = await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, i) => newUser(`many${i}@example.com`)),
  );
  const update = async (i: number, userId: string, replica: number, conflicts: number[]) => {
    const { status, json } = await send(
      'POST',
      `/${tenant}/api/v1/users/${userId}`,
      apiToken,
      { profile: { nickName: `n${i}`, ...(i % 2 ? { city: `c${i}` } : { zipCode: `z${i}` }) } },
      replica,
    );
    if (status === 409) conflicts.push(i);
    else if (status !== 200) throw new Error(`profile update: ${status} ${JSON.stringify(json)}`);
  };
  const alone = await load(UPDATES / 2, (i) => update(i, hot[0]!, 0, []), 1);
  rows.push({
    stack,
    measure: 'baseline: one writer alone, partial profile updates of one user',
    rate: perSecond(UPDATES / 2, alone.ms),
    p99: p99(alone.times),
    vsBaseline: 'baseline',
  });
  for (const [name, users] of [
    ['one hot user', hot],
    [`${CONCURRENCY} users`, many],
  ] as const) {
    const racesBefore = lostRaces;
    const conflicts: number[] = [];
    const contended = await load(UPDATES, (i) =>
      update(i, users[i % users.length]!, i % 2, conflicts),
    );
    rows.push({
      stack,
      measure: `${CONCURRENCY} writers on 2 replicas, ${name}: ${lostRaces - racesBefore} lost races, ${conflicts.length} 409s`,
      rate: perSecond(UPDATES, contended.ms),
      p99: p99(contended.times),
      vsBaseline: `${(alone.ms / (UPDATES / 2) / (contended.ms / UPDATES)).toFixed(2)}x`,
    });
  }

  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await runner.stop();
  let replayed = 0;
  const noop = performance.now();
  await bus.replay(Topics.directory, async () => {
    replayed += 1;
  });
  const noopMs = performance.now() - noop;
  rows.push({
    stack,
    measure: `baseline: read ${replayed} directory events, no-op`,
    rate: perSecond(replayed, noopMs),
    p99: '',
    vsBaseline: 'baseline',
  });
  const rebuild = await rebuildProjections({ bus, store, projections: [directoryProjection] });
  rows.push({
    stack,
    measure: `projection replay (rebuild) of ${rebuild.events} events`,
    rate: perSecond(rebuild.events, rebuild.ms),
    p99: '',
    vsBaseline: `${(noopMs / rebuild.ms).toFixed(2)}x`,
  });
}

const deadline = setTimeout(() => {
  console.error('bench:admin: stopped after 5 minutes');
  process.exit(2);
}, 5 * 60_000);
deadline.unref();

const infrastructure = await acquireInfrastructure((line) => console.error(line));
const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-admin-'));
try {
  const kafka = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-admin',
    log: () => {},
  });
  const redis = new RedisProjectionStore({
    url: infrastructure.redis.url,
    keyPrefix: `bench:${randomUUID()}:`,
  });
  await benchStack(
    `kafka ${infrastructure.kafka.version} + redis ${infrastructure.redis.version}`,
    kafka,
    redis,
  );
  await redis.deleteByPrefix('');
  await Promise.all([kafka.close(), redis.close()]);
  const embedded = await EmbeddedEventBus.open({ dir });
  const memory = new MemoryProjectionStore();
  await benchStack('embedded log + memory store', embedded, memory);
  await Promise.all([embedded.close(), memory.close()]);

  const widths = { stack: 0, measure: 0, rate: 0, p99: 0, vsBaseline: 0 };
  const header: Row = {
    stack: 'stack',
    measure: 'measure',
    rate: 'rate',
    p99: 'p99',
    vsBaseline: 'vs baseline',
  };
  for (const row of [header, ...rows])
    for (const key of Object.keys(widths) as (keyof Row)[])
      widths[key] = Math.max(widths[key], row[key].length);
  const line = (r: Row) =>
    `| ${r.stack.padEnd(widths.stack)} | ${r.measure.padEnd(widths.measure)} | ${r.rate.padStart(widths.rate)} | ${r.p99.padStart(widths.p99)} | ${r.vsBaseline.padEnd(widths.vsBaseline)} |`;
  console.log(
    `\nbench:admin on ${process.version}, concurrency ${CONCURRENCY} (4 for password hashing), ${new Date().toISOString()}`,
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
