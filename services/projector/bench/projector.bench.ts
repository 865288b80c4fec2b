// `pnpm bench:projector` (issue 21, the hot tenant): one tenant issuing tokens with refresh tokens,
// its TokensIssued events keyed by grant and so spread over every partition of gatehouse.grants, and
// the projector applying them with one replica and with two (createProjector in processes of their
// own, one consumer group per phase). Printed per phase: events applied by each replica (from its
// gatehouse_projection_events_applied_total) and events applied per CPU-second of the replicas
// together (their own process.cpuUsage over the window, from just before the events are published
// to the last one applied). Targets: with 2 replicas each applies at least 40%, and events per
// CPU-second are at least 0.8x one replica's. Wall-clock scaling is not a target: this machine has
// 2 cores, and Kafka, Redis and the publisher run beside the replicas. Phases alternate (1, 2 / 2, 1
// / 1, 2); each starts its replicas idle in a fresh group whose offsets are set to the log's end,
// so that it applies this phase's events only. Bounded (a 10-minute deadline); every child process
// is stopped by its PID at the end, also on error.
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventPosition, KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics, newEnvelope, Topics } from '@gatehouse/events';
import { encodeGrantEvent, type GrantEvent, sha256Hex } from '@gatehouse/grants';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { waitForProjections } from '@gatehouse/projections';
import { Kafka, logLevel } from 'kafkajs';
import { ask, cores, median, runBench, start, stop } from '../../token/bench/bench-kit.js';

/** TokensIssued events per phase. */
const EVENTS = Number(process.env.BENCH_PROJECTOR_EVENTS ?? 15_000);
const ROUNDS = 3;
const PUBLISH_BATCH = 250;
const PUBLISHES_IN_FLIGHT = 4;
/** After the replicas are projecting, before the window: the group's rebalances settle. */
const SETTLE_MS = 4_000;
const DEADLINE_MS = 10 * 60_000;
const SHARE_TARGET = 0.4;
const EFFICIENCY_TARGET = 0.8;
const tenant = 't-hot';

/** One token response with a refresh token, as the token service appends it (a new grant each). */
function tokensIssued(now: number) {
  const grantId = randomUUID();
  const event: GrantEvent = {
    type: 'gatehouse.events.v1.TokensIssued',
    data: {
      grant: {
        serverId: 'default',
        clientId: '0oahotclient',
        userId: `00u${randomBytes(6).toString('hex')}`,
        scopes: ['openid', 'offline_access'],
        grantType: 'authorization_code',
        bindingDigest: sha256Hex(grantId),
        authTime: new Date(now - 5_000),
        amr: ['pwd'],
      },
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: new Date(now + 3_600_000),
      idTokenJti: randomUUID(),
      refreshToken: {
        refreshTokenSha256: sha256Hex(randomBytes(32).toString('base64url')),
        familyExpiresAt: new Date(now + 90 * 86_400_000),
        idleExpiresAt: new Date(now + 7 * 86_400_000),
        replacesSha256: '',
        accessTokenLifetimeSeconds: 3600,
        refreshTokenLifetimeSeconds: 90 * 86_400,
        refreshTokenWindowSeconds: 7 * 86_400,
        dpopJkt: '',
        deviceSecretSha256: '',
      },
      dpopJkt: '',
    },
  };
  return newEnvelope({
    type: event.type,
    tenant,
    aggregateId: grantId,
    data: encodeGrantEvent(event),
    aggregateVersion: 1,
  });
}

interface Phase {
  replicas: number;
  /** Events each replica applied in the window. */
  applied: number[];
  cpuMs: number;
  wallMs: number;
  /** The replicas' CPU while idle (before the window), in cores: what they cost with nothing to do. */
  idleCpuShare: number;
  /** Events published in the window, by partition of gatehouse.grants. */
  byPartition: number[];
}

await runBench('bench:projector', DEADLINE_MS, async ({ infrastructure }) => {
  const bus = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-projector-publisher',
    log: () => {},
  });
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const admin = new Kafka({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-projector-admin',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const stores: RedisProjectionStore[] = [];
  const ends = async (topic: string) => new Map(await bus.endOffsets(topic));

  // One store for every phase: a projector starts each partition after the position its store
  // holds (whatever its group committed), so a fresh store would make each phase apply every
  // earlier phase's events again.
  const prefix = `bench:${randomUUID()}:`;
  const store = new RedisProjectionStore({ url: infrastructure.redis.url, keyPrefix: prefix });
  stores.push(store);

  async function phase(replicas: number): Promise<Phase> {
    const group = `bench.projector.${randomUUID()}`;
    // A new group starts where the log ends now: it applies this phase's events, not the last ones'.
    for (const topic of allTopics)
      await admin.setOffsets({
        groupId: group,
        topic,
        partitions: [...(await ends(topic))].map(([partition, end]) => ({
          partition,
          offset: String(end),
        })),
      });
    const children: ChildProcess[] = Array.from({ length: replicas }, () =>
      start(new URL('./projector-replica.ts', import.meta.url), {
        ipc: true,
        env: {
          BENCH_KAFKA_BROKERS: infrastructure.kafka.brokers.join(','),
          BENCH_REDIS_URL: infrastructure.redis.url,
          BENCH_PROJECTOR_PREFIX: prefix,
          BENCH_PROJECTOR_GROUP: group,
        },
      }),
    );
    try {
      await Promise.all(children.map((child) => ask(child, { kind: 'ready' })));
      type Count = { events: number; cpuMs: number };
      const count = () =>
        Promise.all(children.map((child) => ask<Count>(child, { kind: 'count' })));
      // The replicas' idle cost (the beacon, Kafka fetches returning empty) over the settling time.
      const idleBefore = await count();
      const idleStarted = performance.now();
      await sleep(SETTLE_MS);
      const idleAfter = await count();
      const idleCpuShare =
        idleAfter.reduce((sum, a, i) => sum + a.cpuMs - idleBefore[i]!.cpuMs, 0) /
        (performance.now() - idleStarted);
      const grantsBefore = await ends(Topics.grants);
      const before = await count();
      const started = performance.now();
      let published = 0;
      await Promise.all(
        Array.from({ length: PUBLISHES_IN_FLIGHT }, async () => {
          while (published < EVENTS) {
            const n = Math.min(PUBLISH_BATCH, EVENTS - published);
            published += n;
            const now = Date.now();
            await bus.publish(
              Topics.grants,
              Array.from({ length: n }, () => tokensIssued(now)),
            );
          }
        }),
      );
      const grantsAfter = await ends(Topics.grants);
      const positions: EventPosition[] = [...grantsAfter]
        .filter(([partition, end]) => end > (grantsBefore.get(partition) ?? 0n))
        .map(([partition, end]) => ({ topic: Topics.grants, partition, offset: end - 1n }));
      await waitForProjections(store, positions, { timeoutMs: 5 * 60_000 });
      const wallMs = performance.now() - started;
      const after = await count();
      return {
        replicas,
        applied: after.map((a, i) => a.events - before[i]!.events),
        cpuMs: after.reduce((sum, a, i) => sum + a.cpuMs - before[i]!.cpuMs, 0),
        wallMs,
        idleCpuShare,
        byPartition: [...grantsAfter]
          .sort(([a], [b]) => a - b)
          .map(([partition, end]) => Number(end - (grantsBefore.get(partition) ?? 0n))),
      };
    } finally {
      await Promise.all(children.map((child) => stop(child)));
      // The store stays (its positions are where the next phase's replicas start): emptied, it
      // would make them apply the whole log again, counted in their window.
      await admin.deleteGroups([group]).catch(() => {});
    }
  }

  const perCpuSecond = (p: Phase) => p.applied.reduce((sum, n) => sum + n, 0) / (p.cpuMs / 1000);
  const describe = (p: Phase) => {
    const total = p.applied.reduce((sum, n) => sum + n, 0);
    const published = p.byPartition.reduce((sum, n) => sum + n, 0);
    if (total !== published)
      throw new Error(
        `${p.replicas} replica(s) applied ${total} events in the window, ${published} were published: the window counts other work`,
      );
    return `${p.replicas} replica${p.replicas > 1 ? 's' : ' '}: applied ${p.applied.map((n) => `${n} (${Math.round((n / total) * 100)}%)`).join(' + ')}, ${Math.round(perCpuSecond(p)).toLocaleString('en')} events/CPU-s (${(p.cpuMs / 1000).toFixed(1)} CPU-s), ${Math.round((total / p.wallMs) * 1000).toLocaleString('en')} events/s wall; idle ${(p.idleCpuShare * 100).toFixed(1)}% of a core; published by partition ${p.byPartition.join('/')}`;
  };
  const ones: Phase[] = [];
  const twos: Phase[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++)
      for (const replicas of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const result = await phase(replicas);
        (replicas === 1 ? ones : twos).push(result);
        console.log(`round ${round + 1} ${describe(result)}`);
      }
  } finally {
    await admin.disconnect();
    await bus.close();
    await store.deleteByPrefix('').catch(() => {});
    await Promise.all(stores.map((store) => store.close()));
  }

  const ratios = ones.map((one, i) => perCpuSecond(twos[i]!) / perCpuSecond(one));
  const efficiency = median(ratios);
  const shares = twos.flatMap((p) => {
    const total = p.applied.reduce((sum, n) => sum + n, 0);
    return p.applied.map((n) => n / total);
  });
  const minShare = Math.min(...shares);
  console.log(
    `\nbench:projector on ${process.version}, ${cores} CPUs, Kafka ${infrastructure.kafka.version}, Redis ${infrastructure.redis.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `- one tenant, ${EVENTS.toLocaleString('en')} TokensIssued (with refresh tokens) per phase, published ${PUBLISH_BATCH} a batch, ${PUBLISHES_IN_FLIGHT} batches in flight; replicas unpinned; CPU is each replica's process.cpuUsage over the window.`,
  );
  console.log(
    `projector 2 replicas: smallest share ${(minShare * 100).toFixed(0)}% (target >= ${SHARE_TARGET * 100}%: ${minShare >= SHARE_TARGET ? 'met' : 'NOT met'}); events per CPU-second 2/1: ${efficiency.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= ${EFFICIENCY_TARGET}: ${efficiency >= EFFICIENCY_TARGET ? 'met' : 'NOT met'})`,
  );
});
