// `pnpm bench:tenants` (issue 21, many tenants): one tenant's client_credentials token issuance
// (token service) and GET /userinfo with a user's token (userinfo service), throughput and p99 at a
// fixed concurrency, with that tenant alone in its Kafka and Redis and with 10,000 other tenants
// there too. Two worlds side by side, each its own Kafka broker and Redis (infra/local), its own
// projector (in this process) and its own token and userinfo server processes: in the second, the
// seeded tenants' directory and key events are in the same log and read models the measured
// services read (bench-tenant-seeding.ts; keys generated once and cached). Both worlds' servers
// share CPU 0, idle when not measured; the load generator, brokers, Redis and projectors CPU 1.
// 5 rounds, the worlds' order alternating; the ratio of the medians is the figure. Each window
// starts once both worlds' projectors have applied every event so far (a token window leaves 6,000
// TokensIssued behind it, which the projectors would otherwise apply in the next window, on the
// load generator's core), and the first once the seeded world's broker idles like the other (see
// below: its JIT compiles for a while after the seeding).
// Target: with 10,000 tenants, throughput within 10% and p99 within 20% of the 1-tenant figures.
// BENCH_TENANTS=N seeds N instead of 10,000 (a quick check); 127.0.0.1 only; every child process
// and both infrastructures are stopped at the end, also on error.
import { randomUUID } from 'node:crypto';
import type { EventPosition } from '@gatehouse/event-bus';
import { KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { waitForProjections } from '@gatehouse/projections';
import { parseKeks } from '@gatehouse/signing-keys';
import { acquireInfrastructure, type TestInfrastructure, threadCpuOf } from '@gatehouse/testkit';
import {
  basic,
  cores,
  LOAD_CPU,
  type Load,
  listening,
  type Measured,
  measure,
  median,
  pidListeningOn,
  pin,
  pinNote,
  runBench,
  SERVER_CPU,
  type Server,
  setUpGatehouse,
  start,
  warmUp,
} from '../../token/bench/bench-kit.js';
import { seedTenants } from './bench-tenant-seeding.js';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 10_000);
const ROUNDS = 5;
const CONCURRENCY = 32;
const WARMUP_REQUESTS = 1_000;
const TOKEN_REQUESTS = 6_000;
const USERINFO_REQUESTS = 16_000;
const DEADLINE_MS = 20 * 60_000;
/** How long the projector may take over the seeded events. */
const SEED_PROJECTION_MS = 10 * 60_000;
const THROUGHPUT_TARGET = 0.9;
const P99_TARGET = 1.2;
/**
 * The services' GATEHOUSE_MAX_PROJECTION_LAG_MS (their default is 1,000): this machine is shared, and
 * starved of CPU the projectors' beacons have passed 5 s, when every check fails closed (503) and
 * the window fails. The bound costs no CPU either way. BENCH_MAX_PROJECTION_LAG_MS overrides it.
 */
const MAX_PROJECTION_LAG_MS = Number(process.env.BENCH_MAX_PROJECTION_LAG_MS ?? 30_000);
/** How the ratio lines name the worlds: `10k/1` at the default. */
const ratioName = `${TENANTS % 1000 === 0 ? `${TENANTS / 1000}k` : TENANTS}/1`;

const redirectUri = 'https://app.example.com/cb';
const log = (line: string) => console.error(`bench:tenants: ${line}`);

interface World {
  name: string;
  token: Server;
  userinfo: Server;
  tokenLoad: Load;
  userinfoLoad: Load;
  /** The names, in the measured windows' `others`, of this world's own Kafka broker and Redis. */
  infrastructure: [kafka: string, redis: string];
  /** Resolves once the world's projector has applied every event appended so far. */
  settled(): Promise<void>;
}

/** Every event appended to the world's log so far, applied by its projector. */
async function projected(bus: KafkaEventBus, store: Parameters<typeof waitForProjections>[0]) {
  const positions: EventPosition[] = [];
  for (const topic of allTopics)
    for (const [partition, end] of await bus.endOffsets(topic))
      if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
  await waitForProjections(store, positions, { timeoutMs: SEED_PROJECTION_MS });
}

/** A world: the measured tenant, `others` seeded tenants, its token and userinfo servers. */
async function buildWorld(
  name: string,
  infrastructureNames: World['infrastructure'],
  infrastructure: TestInfrastructure,
  others: number,
  onCleanUp: (step: () => Promise<void>) => void,
): Promise<World> {
  const gatehouse = await setUpGatehouse(infrastructure, `bench:${randomUUID()}:`);
  onCleanUp(gatehouse.close);
  const { tenant, fixtures } = gatehouse;
  if (others > 0) {
    const bus = new KafkaEventBus({
      brokers: infrastructure.kafka.brokers,
      clientId: 'bench-tenants-seed',
      log: () => {},
    });
    try {
      const started = performance.now();
      const events = await seedTenants({
        bus,
        keks: parseKeks(gatehouse.kekSetting),
        count: others,
        prefix: 't-seeded-',
        log,
      });
      const appended = performance.now();
      log(
        `${name}: ${others.toLocaleString('en')} tenants, ${events.toLocaleString('en')} events appended in ${((appended - started) / 1000).toFixed(1)} s`,
      );
      await projected(bus, gatehouse.store);
      log(
        `${name}: projected in ${((performance.now() - appended) / 1000).toFixed(1)} s more (${Math.round(events / ((performance.now() - started) / 1000)).toLocaleString('en')} events/s overall)`,
      );
    } finally {
      await bus.close();
    }
  }
  // A web client and a user assigned to it, whose token /userinfo is asked with.
  const web = await fixtures.newClient(tenant, {
    client_name: 'Bench web',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  });
  const login = `bench-${randomUUID().slice(0, 8)}@example.com`;
  const userId = await fixtures.newUser(tenant, login);
  await fixtures.assign(tenant, web.clientId, { userId });

  const env = {
    ...gatehouse.env,
    GATEHOUSE_MAX_PROJECTION_LAG_MS: String(MAX_PROJECTION_LAG_MS),
  };
  const tokenChild = start('gatehouse-server.ts', {
    cpu: SERVER_CPU,
    env: { ...env, GATEHOUSE_TOKEN_PORT: '0' },
    profile: true,
  });
  const userinfoChild = start(new URL('./userinfo-server.ts', import.meta.url), {
    cpu: SERVER_CPU,
    env: { ...env, GATEHOUSE_USERINFO_PORT: '0' },
    profile: true,
  });
  const [tokenPort, userinfoPort] = await Promise.all([
    listening(tokenChild, `${name} token`),
    listening(userinfoChild, `${name} userinfo`),
  ]);
  const serverPath = `/${tenant}/oauth2/default/v1`;
  const { code } = await fixtures.issueCode(tenant, {
    clientId: web.clientId,
    userId,
    redirectUri,
    scopes: ['openid', 'profile', 'email'],
  });
  const exchanged = await fetch(`http://127.0.0.1:${tokenPort}${serverPath}/token`, {
    method: 'POST',
    headers: {
      authorization: basic(web.clientId, web.clientSecret!),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    }),
  });
  const { access_token: accessToken } = (await exchanged.json()) as { access_token?: string };
  if (!accessToken) throw new Error(`${name}: authorization code exchange: ${exchanged.status}`);
  // The projector's work of a window (the token window's TokensIssued) done before the next
  // window starts, in either world: the projectors share the load generator's core.
  const ends = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-tenants-ends',
    log: () => {},
  });
  onCleanUp(() => ends.close());
  return {
    name,
    infrastructure: infrastructureNames,
    settled: () => projected(ends, gatehouse.store),
    token: {
      name: `${name} token`,
      child: tokenChild,
      target: {
        port: tokenPort,
        path: `${serverPath}/token`,
        authorization: basic(gatehouse.clientId, gatehouse.clientSecret),
      },
    },
    userinfo: {
      name: `${name} userinfo`,
      child: userinfoChild,
      target: {
        port: userinfoPort,
        path: `${serverPath}/userinfo`,
        authorization: `Bearer ${accessToken}`,
      },
    },
    tokenLoad: {
      body: 'grant_type=client_credentials&scope=orders.read',
      concurrency: CONCURRENCY,
    },
    userinfoLoad: { method: 'GET', expect: `"sub":"${userId}"`, concurrency: CONCURRENCY },
  };
}

interface Window {
  perSecond: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  /** CPU-ms per request of the world's own Kafka broker and Redis over the window. */
  kafkaMsPerRequest: number;
  redisMsPerRequest: number;
}

const windowOf = (world: World, run: Measured): Window => ({
  perSecond: (run.load.count / run.load.ms) * 1000,
  p99Ms: run.load.latenciesMs[Math.floor(run.load.latenciesMs.length * 0.99)]!,
  cpuMsPerRequest: run.servers[0]!.cpuMs / run.servers[0]!.requests,
  kafkaMsPerRequest: (run.others.get(world.infrastructure[0]) ?? Number.NaN) / run.load.count,
  redisMsPerRequest: (run.others.get(world.infrastructure[1]) ?? Number.NaN) / run.load.count,
});

await runBench('bench:tenants', DEADLINE_MS, async ({ infrastructure, watched, onCleanUp }) => {
  // The second world's own Kafka and Redis, started here (the first is runBench's).
  const many = await acquireInfrastructure(log, { env: { GATEHOUSE_TEST_INFRA: 'local' } });
  onCleanUp(() => many.stop());
  const kafkaPid = pidListeningOn(Number(many.kafka.brokers[0]!.split(':').at(-1)));
  const redisPid = pidListeningOn(Number(new URL(many.redis.url).port));
  if (kafkaPid) watched.set('Kafka broker (10k world)', kafkaPid);
  if (redisPid) watched.set('Redis (10k world)', redisPid);

  const one = await buildWorld('1 tenant', ['Kafka broker', 'Redis'], infrastructure, 0, onCleanUp);
  // Seeding is not measured: the projector (this process) may use both cores meanwhile.
  pin(process.pid, `${SERVER_CPU},${LOAD_CPU}`);
  const tenK = await buildWorld(
    `${TENANTS.toLocaleString('en')} tenants`,
    ['Kafka broker (10k world)', 'Redis (10k world)'],
    many,
    TENANTS - 1,
    onCleanUp,
  );
  for (const pid of [process.pid, kafkaPid, redisPid]) if (pid) pin(pid, LOAD_CPU);
  // A broker that has just taken 170,000 seeded events stays busy for a minute or two after it
  // (in earlier runs its first windows cost 2x the CPU per token request of the other broker's,
  // then the same): the windows measure the steady state of a broker holding 10,000 tenants, not
  // the aftermath of their import. Each 5 s idle sample prints both brokers' CPU and their busiest
  // threads; the windows start once the 10k world's broker idles like the other (at most 1.5x its
  // CPU, or 50 ms more per 5 s), or after 3 minutes, said.
  const oneKafkaPid = pidListeningOn(Number(infrastructure.kafka.brokers[0]!.split(':').at(-1)));
  if (oneKafkaPid && kafkaPid) {
    const quietUntil = Date.now() + 3 * 60_000;
    for (;;) {
      const before = [threadCpuOf(oneKafkaPid), threadCpuOf(kafkaPid)];
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const after = [threadCpuOf(oneKafkaPid), threadCpuOf(kafkaPid)];
      const spent = after.map((threads, i) => {
        const used = [...threads].map(
          ([name, ms]) => [name, ms - (before[i]!.get(name) ?? 0)] as const,
        );
        return {
          total: used.reduce((sum, [, ms]) => sum + ms, 0),
          top: used
            .filter(([, ms]) => ms > 0)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3)
            .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
            .join(', '),
        };
      });
      const [oneSpent, manySpent] = spent as [(typeof spent)[0], (typeof spent)[0]];
      log(
        `idle 5 s: Kafka broker (1 tenant) ${oneSpent.total.toFixed(0)} CPU-ms (${oneSpent.top}); (${ratioName.split('/')[0]}) ${manySpent.total.toFixed(0)} CPU-ms (${manySpent.top})`,
      );
      if (manySpent.total <= Math.max(oneSpent.total * 1.5, oneSpent.total + 50)) break;
      if (Date.now() > quietUntil) {
        log('the brokers did not idle alike within 3 minutes; measuring anyway');
        break;
      }
    }
  }
  const loader = start('load-generator.ts', { cpu: LOAD_CPU, ipc: true });
  watched.set('load generator', loader.pid!);
  for (const world of [one, tenK]) {
    await warmUp(loader, [world.token], WARMUP_REQUESTS, world.tokenLoad);
    await warmUp(loader, [world.userinfo], WARMUP_REQUESTS, world.userinfoLoad);
  }

  const results = new Map<World, { token: Window[]; userinfo: Window[] }>([
    [one, { token: [], userinfo: [] }],
    [tenK, { token: [], userinfo: [] }],
  ]);
  const fmt = (w: Window) =>
    `${Math.round(w.perSecond).toLocaleString('en')}/s p99 ${w.p99Ms.toFixed(1)} ms ${w.cpuMsPerRequest.toFixed(3)} CPU-ms/req (its Kafka ${w.kafkaMsPerRequest.toFixed(3)}, Redis ${w.redisMsPerRequest.toFixed(3)})`;
  for (let round = 0; round < ROUNDS; round++) {
    for (const world of round % 2 === 0 ? [one, tenK] : [tenK, one]) {
      await Promise.all([one.settled(), tenK.settled()]);
      const token = windowOf(
        world,
        await measure(loader, [world.token], watched, TOKEN_REQUESTS, world.tokenLoad),
      );
      await Promise.all([one.settled(), tenK.settled()]);
      const userinfo = windowOf(
        world,
        await measure(loader, [world.userinfo], watched, USERINFO_REQUESTS, world.userinfoLoad),
      );
      results.get(world)!.token.push(token);
      results.get(world)!.userinfo.push(userinfo);
      console.log(
        `round ${round + 1} ${world.name.padEnd(15)} token ${fmt(token)} | userinfo ${fmt(userinfo)}`,
      );
    }
  }

  console.log(
    `\nbench:tenants on ${process.version}, ${cores} CPUs, Kafka ${infrastructure.kafka.version}, Redis ${infrastructure.redis.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `- ${pinNote}; ${CONCURRENCY} requests in flight; per window ${TOKEN_REQUESTS.toLocaleString('en')} token and ${USERINFO_REQUESTS.toLocaleString('en')} userinfo requests, after ${WARMUP_REQUESTS.toLocaleString('en')} warmup each; ${ROUNDS} rounds, the worlds' order alternating; figures are medians of the rounds.`,
  );
  for (const service of ['token', 'userinfo'] as const) {
    const [a, b] = [results.get(one)![service], results.get(tenK)![service]];
    const rate = median(b.map((w) => w.perSecond)) / median(a.map((w) => w.perSecond));
    const p99 = median(b.map((w) => w.p99Ms)) / median(a.map((w) => w.p99Ms));
    const cpu = median(b.map((w) => w.cpuMsPerRequest)) / median(a.map((w) => w.cpuMsPerRequest));
    const beside = (key: 'kafkaMsPerRequest' | 'redisMsPerRequest') =>
      (median(b.map((w) => w[key])) / median(a.map((w) => w[key]))).toFixed(2);
    const met = rate >= THROUGHPUT_TARGET && p99 <= P99_TARGET;
    console.log(
      `${service} throughput ${ratioName}: ${rate.toFixed(2)}, p99 ${ratioName}: ${p99.toFixed(2)} (CPU-ms/request ${ratioName}: server ${cpu.toFixed(2)}, its Kafka ${beside('kafkaMsPerRequest')}, its Redis ${beside('redisMsPerRequest')}; target >= ${THROUGHPUT_TARGET} and <= ${P99_TARGET}: ${met ? 'met' : 'NOT met'})`,
    );
  }
});
