// What the benches that run servers as child processes share (`pnpm bench:token`, and
// `pnpm bench:validation` in services/userinfo/bench): children pinned with taskset and stopped by
// PID, their whole-process CPU from /proc (over measured windows of the load generator, and over
// idle windows), a service's Prometheus histogram read from its /metrics, Gatehouse's world (tenant,
// keys, a client, the projector in this process or in one of its own) and a run's life:
// infrastructure, a hard deadline, every child stopped at the end, also on error or a signal.
// GATEHOUSE_BENCH_CPU_PROF=DIR writes a V8 CPU profile of each server there (figures then skew).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ClientMetadata } from '@gatehouse/contracts';
import {
  type DirectoryEvent,
  decideClient,
  decideNewTenant,
  directoryProjection,
  readClientMetadata,
} from '@gatehouse/directory';
import { type EventPosition, KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { grantsProjection, invalidationProjection, sha256Hex } from '@gatehouse/grants';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { ProjectionRunner, waitForProjections } from '@gatehouse/projections';
import {
  KeyRing,
  keysProjection,
  newKekSetting,
  parseKeks,
  storeKeySource,
} from '@gatehouse/signing-keys';
import {
  appendDirectoryEvents,
  customScopeCreated,
  directoryFixtures,
  provisionServerKeys,
} from '@gatehouse/test-stacks';
import {
  acquireInfrastructure,
  cpuMsOf,
  cpuOf,
  pidListeningOn,
  type TestInfrastructure,
  testGrpcTlsEnv,
} from '@gatehouse/testkit';
import type { LoadCommand, LoadResult, Target } from './load-generator.js';

export const SERVER_CPU = '0';
export const LOAD_CPU = '1';

/** The oidc-provider the peers run (services/token's devDependency). */
export const peerVersion = (
  JSON.parse(
    readFileSync(new URL('../node_modules/oidc-provider/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;

/** The bench's name, set by runBench: it prefixes every log line. */
let benchName = 'bench';
export const log = (line: string) => console.error(`${benchName}: ${line}`);
export const profileDir = process.env.GATEHOUSE_BENCH_CPU_PROF;

// --- processes -----------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
export const cores = availableParallelism();
const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
export const pinning = taskset.error === undefined && taskset.status === 0 && cores >= 2;
export const pinNote = pinning
  ? `pinned with taskset: servers on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU}`
  : taskset.error || taskset.status !== 0
    ? 'NOT PINNED: taskset (util-linux) was not found, so processes share the cores as the scheduler likes; CPU-ms per request still counts each server alone, rates do not'
    : `NOT PINNED: this machine has ${cores} CPU, two are needed`;

/**
 * Starts a bench script as a child process, pinned to `cpu` when pinning works. `script` is a file
 * name in services/token/bench, or the URL of a script elsewhere; it runs from its package's folder.
 */
export function start(
  script: string | URL,
  options: {
    cpu?: string;
    env?: Record<string, string>;
    ipc?: boolean;
    profile?: boolean;
  },
): ChildProcess {
  const url = typeof script === 'string' ? new URL(script, import.meta.url) : script;
  const node = [
    '--import',
    'tsx',
    ...(options.profile && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    fileURLToPath(url),
  ];
  const [command, args] =
    pinning && options.cpu !== undefined
      ? ['taskset', ['-c', options.cpu, process.execPath, ...node]]
      : [process.execPath, node];
  const child = spawn(command, args as string[], {
    cwd: fileURLToPath(new URL('..', url)),
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'pipe', 'inherit', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const name = typeof script === 'string' ? script : basename(fileURLToPath(script));
  log(
    `started ${name} as PID ${child.pid}${pinning && options.cpu ? ` on CPU ${options.cpu}` : ''}`,
  );
  return child;
}

/** Pins an already running process, every thread of it. */
export function pin(pid: number, cpus: string): void {
  if (pinning) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** Resolves with the port once the server prints {"port":N}. */
export function listening(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not listen in 60 s`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /\{"port":(\d+)\}/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening`));
    });
  });
}

/** Sends one command over IPC and waits for its one answer. */
export function ask<T>(child: ChildProcess, command: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (answer: T & { error?: string }) => {
      child.off('exit', onExit);
      if (answer.error) reject(new Error(answer.error));
      else resolve(answer);
    });
    child.send(command as object);
  });
}

/** SIGTERM by PID, then SIGKILL after 5 s; resolves once it has exited. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

function killAllNow(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {}
    }
}
process.on('exit', killAllNow);

// --- CPU accounting ------------------------------------------------------------------------------

export { pidListeningOn };

export interface Server {
  name: string;
  child: ChildProcess;
  target: Target;
}

/** What each request of a window sends and expects, and how many are in flight per server. */
export type Load = Omit<LoadCommand, 'targets' | 'count'>;

export interface Measured {
  load: LoadResult;
  /** Per server: CPU-ms over the window (all, and system time alone), requests it answered. */
  servers: { cpuMs: number; systemMs: number; requests: number }[];
  /** CPU-ms over the window of other processes watched (Kafka, Redis, the parent). */
  others: Map<string, number>;
}

const loadCommand = (servers: Server[], perServer: number, load: Load): LoadCommand => ({
  ...load,
  targets: servers.map((server) => server.target),
  count: perServer * servers.length,
});

/** Requests outside any measurement; its result tells how fast the servers answer. */
export async function warmUp(
  loader: ChildProcess,
  servers: Server[],
  perServer: number,
  load: Load,
): Promise<LoadResult> {
  const result = await ask<LoadResult>(loader, loadCommand(servers, perServer, load));
  assertExpected(result, 'warmup', load);
  return result;
}

/** `perServer` requests to each of `servers`, their CPU and that of `others` over the window. */
export async function measure(
  loader: ChildProcess,
  servers: Server[],
  others: Map<string, number>,
  perServer: number,
  load: Load,
): Promise<Measured> {
  const before = servers.map((server) => cpuOf(server.child.pid!));
  const othersBefore = new Map([...others].map(([name, pid]) => [name, cpuMsOf(pid)]));
  const result = await ask<LoadResult>(loader, loadCommand(servers, perServer, load));
  const after = servers.map((server) => cpuOf(server.child.pid!));
  assertExpected(result, 'measured window', load);
  return {
    load: result,
    servers: servers.map((_, i) => ({
      cpuMs: after[i]!.userMs + after[i]!.systemMs - before[i]!.userMs - before[i]!.systemMs,
      systemMs: after[i]!.systemMs - before[i]!.systemMs,
      requests: result.perTarget[i]!,
    })),
    others: new Map(
      [...others].map(([name, pid]) => [name, cpuMsOf(pid) - othersBefore.get(name)!]),
    ),
  };
}

export interface SystemMeasured extends Measured {
  /** Wall time from the window's start until `settled` resolved: the load, then the catch-up. */
  settledMs: number;
  /** CPU-ms over that longer time of the server and of every process of `system`, by name. */
  settledCpuMs: Map<string, number>;
}

/**
 * `perServer` requests to `server` as measure() counts them, and also the CPU of the server and of
 * the processes of `system` (name to PID) from the window's start until `settled` resolves after
 * the load (say once the projector has applied the window's events), so that work a window causes
 * and that finishes after its last response is counted in it.
 */
export async function measureSystem(
  loader: ChildProcess,
  server: Server,
  system: Map<string, number>,
  perServer: number,
  load: Load,
  settled: () => Promise<void>,
): Promise<SystemMeasured> {
  const all = new Map([[server.name, server.child.pid!], ...system]);
  const before = new Map([...all].map(([name, pid]) => [name, cpuMsOf(pid)]));
  const started = performance.now();
  const run = await measure(loader, [server], system, perServer, load);
  await settled();
  const settledMs = performance.now() - started;
  return {
    ...run,
    settledMs,
    settledCpuMs: new Map([...all].map(([name, pid]) => [name, cpuMsOf(pid) - before.get(name)!])),
  };
}

/** Several windows of the same servers as one. */
export function pooled(runs: Measured[]): Measured {
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    load: {
      count: sum(runs.map((run) => run.load.count)),
      ms: sum(runs.map((run) => run.load.ms)),
      latenciesMs: runs.flatMap((run) => run.load.latenciesMs).sort((a, b) => a - b),
      perTarget: runs[0]!.load.perTarget.map((_, i) => sum(runs.map((r) => r.load.perTarget[i]!))),
      failures: {},
      failedBodies: {},
    },
    servers: runs[0]!.servers.map((_, i) => ({
      cpuMs: sum(runs.map((run) => run.servers[i]!.cpuMs)),
      systemMs: sum(runs.map((run) => run.servers[i]!.systemMs)),
      requests: sum(runs.map((run) => run.servers[i]!.requests)),
    })),
    others: new Map(
      [...runs[0]!.others.keys()].map((name) => [
        name,
        sum(runs.map((run) => run.others.get(name)!)),
      ]),
    ),
  };
}

/** CPU-ms per request answered of the run's `i`th server. */
export const cpuPerRequest = (run: Measured, i = 0) =>
  run.servers[i]!.cpuMs / run.servers[i]!.requests;
/** CPU per request of all the run's servers together. */
export const pooledCpuPerRequest = (run: Measured) =>
  run.servers.reduce((sum, s) => sum + s.cpuMs, 0) /
  run.servers.reduce((sum, s) => sum + s.requests, 0);
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * CPU-ms of each of `processes` (name to PID) over `ms` of wall time in which nothing is sent to
 * them: what they cost doing nothing (timers, heartbeats, a broker's housekeeping), to subtract from
 * a measured window of the same length. `ms` is the wall time that actually passed.
 */
export async function idleCpu(
  processes: Map<string, number>,
  ms: number,
): Promise<{ ms: number; cpuMs: Map<string, number> }> {
  const before = new Map([...processes].map(([name, pid]) => [name, cpuMsOf(pid)]));
  const started = performance.now();
  await sleep(ms);
  const after = new Map([...processes].map(([name, pid]) => [name, cpuMsOf(pid)]));
  return {
    ms: performance.now() - started,
    cpuMs: new Map([...processes].map(([name]) => [name, after.get(name)! - before.get(name)!])),
  };
}

/**
 * A histogram's _sum and _count in a service's Prometheus exposition at `url` (every label set
 * added up), or undefined when the service exports no such series.
 */
export async function histogramTotals(
  url: string,
  name: string,
): Promise<{ sum: number; count: number } | undefined> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\S+?)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (!match) continue;
    if (match[1] === `${name}_sum`) sum += Number(match[2]);
    else if (match[1] === `${name}_count`) count += Number(match[2]);
    else continue;
    seen = true;
  }
  return seen ? { sum, count } : undefined;
}

function assertExpected(result: LoadResult, what: string, load: Load): void {
  const failed = Object.entries(result.failures);
  if (failed.length > 0)
    throw new Error(
      `${what}: responses that were not 200 with ${load.expect ?? 'a JWT access token'}, by HTTP status (0 = connection error): ${JSON.stringify(result.failures)}; the first of each: ${JSON.stringify(result.failedBodies)}`,
    );
}

// --- Gatehouse's world: tenant, keys, scope, client, through the deciders ------------------------

/**
 * A tenant with its org and default servers' keys, the custom scope orders.read and a service
 * client, appended to Kafka as the admin and keys services would, with the projector of the run
 * applying them before it returns: in this process (the default: its work is then the parent's,
 * not a server's), or with `projector: 'process'` in a process of its own (projector-server.ts,
 * pinned to the load generator's core), so that its CPU can be counted alone (`projectorPid`).
 * `fixtures` puts more on the same bus and store; `env` is what a service process needs to join;
 * `caughtUp()` resolves once the projector has applied every event appended so far.
 */
export async function setUpGatehouse(
  infrastructure: TestInfrastructure,
  keyPrefix: string,
  options: { projector?: 'parent' | 'process' } = {},
) {
  const slug = benchName.replace(/[^A-Za-z0-9]+/g, '-');
  const bus = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: `${slug}-setup`,
    log: () => {},
  });
  const store = new RedisProjectionStore({ url: infrastructure.redis.url, keyPrefix });
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const kekSetting = newKekSetting('kek-bench');
  /** The environment of a Gatehouse service process of this run (gatehouse-server.ts and the
   * like): these Kafka and Redis, this KEK, path tenancy, and this run's read models. */
  const env: Record<string, string> = {
    // The token service serves gRPC over mutual TLS only: a certificate of the test CA.
    ...(await testGrpcTlsEnv('token')),
    GATEHOUSE_KAFKA_BROKERS: infrastructure.kafka.brokers.join(','),
    // The testkit's broker is a single one: topics of one copy (the services' default is 3).
    GATEHOUSE_KAFKA_REPLICATION_FACTOR: '1',
    GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '1',
    GATEHOUSE_REDIS_URL: infrastructure.redis.url,
    GATEHOUSE_KEK: kekSetting,
    GATEHOUSE_PUBLIC_URL: 'http://localhost:9000',
    GATEHOUSE_TENANT_MODE: 'path',
    GATEHOUSE_BENCH_REDIS_PREFIX: keyPrefix,
  };
  const groupId = `${slug}-projector-${randomUUID()}`;
  let runner: ProjectionRunner | undefined;
  let projectorChild: ChildProcess | undefined;
  let projectorPort: number | undefined;
  if (options.projector === 'process') {
    projectorChild = start('projector-server.ts', {
      cpu: LOAD_CPU,
      env: { ...env, BENCH_PROJECTOR_GROUP: groupId },
      profile: true,
    });
    projectorPort = await listening(projectorChild, 'projector');
  } else
    runner = await ProjectionRunner.start({
      bus,
      store,
      projections: [directoryProjection, keysProjection, grantsProjection, invalidationProjection],
      groupId,
    });
  const keks = parseKeks(kekSetting);
  const tenant = `t-${randomUUID().slice(0, 8)}`;

  const appendDirectory = (
    changes: { aggregateId: string; event: DirectoryEvent; version?: number }[],
  ) => appendDirectoryEvents(bus, tenant, changes);
  const provisionKeys = (serverId: string) => provisionServerKeys(bus, keks, tenant, serverId);

  await appendDirectory(
    decideNewTenant(
      {
        id: tenant,
        name: 'Bench',
        apiTokenSha256: sha256Hex(randomBytes(32).toString('base64url')),
      },
      { status: 'NONE' },
    ),
  );
  await provisionKeys('org');
  await provisionKeys('default');
  await appendDirectory([
    customScopeCreated('default', 'orders.read', {
      isDefault: true,
      published: true,
      description: 'Read orders',
    }),
  ]);
  const { metadata, problems } = readClientMetadata({
    client_name: 'Bench service',
    application_type: 'service',
  });
  if (!metadata) throw new Error(`bad client metadata: ${JSON.stringify(problems)}`);
  const clientId = `0oa${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
  const clientSecret = randomBytes(32).toString('base64url');
  await appendDirectory(
    decideClient(
      {
        kind: 'RegisterClient',
        id: clientId,
        metadata: metadata as ClientMetadata,
        secretSha256: sha256Hex(clientSecret),
      },
      { status: 'NONE' } as Parameters<typeof decideClient>[1],
    ).map((event, i) => ({ aggregateId: clientId, event, version: i + 1 })),
  );
  /** Every event appended so far (every topic's last offset), applied by the projector. */
  const caughtUp = async (timeoutMs = 30_000) => {
    const positions: EventPosition[] = [];
    for (const topic of allTopics)
      for (const [partition, end] of await bus.endOffsets(topic))
        if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
    await waitForProjections(store, positions, { timeoutMs });
  };
  // Every event so far applied by the projector before any server reads.
  await caughtUp();
  const ring = new KeyRing(storeKeySource(store), keks);
  return {
    tenant,
    clientId,
    clientSecret,
    kekSetting,
    /** This run's read models, as the servers see them. */
    store,
    fixtures: directoryFixtures({ bus, store, keks }),
    env,
    caughtUp,
    /** The projector's process (with `projector: 'process'`), and its /metrics. */
    projectorPid: projectorChild?.pid,
    projectorMetrics:
      projectorPort === undefined ? undefined : `http://127.0.0.1:${projectorPort}/metrics`,
    verificationKeys: () => ring.verificationKeys(tenant, 'default'),
    close: async () => {
      if (projectorChild) await stop(projectorChild);
      await runner?.stop();
      await ring.close();
      await store.deleteByPrefix('');
      await Promise.all([bus.close(), store.close()]);
    },
  };
}

// --- the run and its table -----------------------------------------------------------------------

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
export const fixed = (value: number, digits = 3) => value.toFixed(digits);
export const perSecond = (count: number, ms: number) =>
  `${Math.round((count / ms) * 1000).toLocaleString('en')}/s`;

export interface Column<K extends string> {
  key: K;
  label: string;
  /** Numbers are right-aligned; text is left-aligned (the default). */
  align?: 'left' | 'right';
}

/** A markdown table on stdout, each column as wide as its widest cell. */
export function printTable<K extends string>(
  columns: readonly Column<K>[],
  rows: readonly Record<K, string>[],
): void {
  const widths = columns.map((column) =>
    Math.max(column.label.length, ...rows.map((row) => row[column.key].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells
      .map((cell, i) =>
        columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join(' | ')} |`;
  console.log(line(columns.map((column) => column.label)));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((column) => row[column.key])));
}

export interface BenchRun {
  infrastructure: TestInfrastructure;
  kafkaPid: number | undefined;
  redisPid: number | undefined;
  /** Whether this run started Kafka and Redis (infra/local), and may therefore pin them. */
  kafkaOurs: boolean;
  redisOurs: boolean;
  /** Processes a window also counts the CPU of: this one (the projector), Kafka, Redis. */
  watched: Map<string, number>;
  /** Runs at the end, after every child has stopped and before the infrastructure does. */
  onCleanUp(step: () => Promise<void>): void;
}

/**
 * Runs a bench: Kafka and Redis acquired, this process, Kafka and Redis (when ours) pinned off the
 * servers' core, then `body`; at the end, on error, on SIGINT/SIGTERM or past `deadlineMs`, every
 * child is stopped by its PID and the infrastructure released.
 */
export async function runBench(
  name: string,
  deadlineMs: number,
  body: (run: BenchRun) => Promise<void>,
): Promise<void> {
  benchName = name;
  let infrastructure: TestInfrastructure | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  let finished = false;

  const cleanUp = async (): Promise<void> => {
    await Promise.all([...children].map((child) => stop(child).catch(() => {})));
    for (const step of cleanups.splice(0).reverse())
      await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    await infrastructure?.stop();
  };

  const deadline = setTimeout(() => {
    log(`stopped after ${deadlineMs / 60_000} minutes`);
    killAllNow();
    void cleanUp().finally(() => process.exit(2));
  }, deadlineMs);
  deadline.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      killAllNow();
      void cleanUp().finally(() => process.exit(130));
    });

  try {
    log(pinNote);
    if (profileDir)
      log(`CPU profiles of the servers go to ${profileDir}: figures are not comparable`);
    infrastructure = await acquireInfrastructure((line) => log(line));
    const kafkaPort = Number(infrastructure.kafka.brokers[0]!.split(':').at(-1));
    const redisPort = Number(new URL(infrastructure.redis.url).port || 6379);
    const kafkaPid = pidListeningOn(kafkaPort);
    const redisPid = pidListeningOn(redisPort);
    const kafkaOurs = infrastructure.kafka.source === 'infra/local';
    const redisOurs = infrastructure.redis.source === 'infra/local';
    // Kafka, Redis and this process (the projector) stay off the servers' core, when they are ours.
    pin(process.pid, LOAD_CPU);
    if (kafkaOurs && kafkaPid) pin(kafkaPid, LOAD_CPU);
    if (redisOurs && redisPid) pin(redisPid, LOAD_CPU);
    const watched = new Map<string, number>([['parent (projector)', process.pid]]);
    if (kafkaPid) watched.set('Kafka broker', kafkaPid);
    if (redisPid) watched.set('Redis', redisPid);
    await body({
      infrastructure,
      kafkaPid,
      redisPid,
      kafkaOurs,
      redisOurs,
      watched,
      onCleanUp: (step) => cleanups.push(step),
    });
    finished = true;
  } finally {
    if (!finished) log('failed; stopping every child process');
    await cleanUp();
  }
}
