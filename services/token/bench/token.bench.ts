// `pnpm bench:token`: client_credentials tokens per second, p99 latency and server CPU-ms per token
// of Gatehouse's token service (its TokensIssued event appended to Kafka, read models in Redis) and
// of a peer, oidc-provider issuing RS256 JWT access tokens, next to the raw cost of an RS256
// signature measured in the same run. Per core: each server is a process of its own pinned to one
// CPU (taskset), the load generator another process pinned to the other, and a server's CPU is its
// whole process's utime + stime from /proc/<pid>/stat over the measured window. Then two token
// processes, first sharing one core and then one per core, for scaling (with two cores there is
// none to spare: see the notes it prints). Bounded (warmup, fixed request counts, a 4-minute
// deadline), 127.0.0.1 only; every child process is stopped by its PID at the end, also on error.
// GATEHOUSE_BENCH_CPU_PROF=DIR writes a V8 CPU profile of each server there (figures then skew).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
  provisionServerKeys,
} from '@gatehouse/test-stacks';
import { acquireInfrastructure, type TestInfrastructure } from '@gatehouse/testkit';
import { verifyJwt } from '@gatehouse/tokens';
import type { LoadCommand, LoadResult, Target } from './load-generator.js';
import type { RawSignCommand, RawSignResult } from './raw-sign.js';

/** Requests in flight per server. */
const CONCURRENCY = 32;
const WARMUP_REQUESTS = 1_500;
/** Measured requests per server process. */
const REQUESTS = 6_000;
/** One process alone and two sharing its core, alternately, in rounds of this many per process. */
const ROUNDS = 4;
const ROUND_REQUESTS = 1_500;
const RAW_WARMUP = 300;
const RAW_SIGNATURES = 4_000;
const DEADLINE_MS = 4 * 60_000;
/** Gatehouse's target: CPU per token within this factor of one raw RS256 signature. */
const GATEHOUSE_TARGET = 1.1;
/** What oidc-provider typically needs on one core, per the issue (a reference, not a target). */
const PEER_TYPICAL = 1.7;
/** Two token processes must give at least this factor of one. */
const SCALING_TARGET = 1.8;
const SERVER_CPU = '0';
const LOAD_CPU = '1';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const benchFile = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const peerVersion = (
  JSON.parse(
    readFileSync(new URL('../node_modules/oidc-provider/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;
const log = (line: string) => console.error(`bench:token: ${line}`);
const profileDir = process.env.GATEHOUSE_BENCH_CPU_PROF;

// --- processes -----------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const cores = availableParallelism();
const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
const pinning = taskset.error === undefined && taskset.status === 0 && cores >= 2;
const pinNote = pinning
  ? `pinned with taskset: servers on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU}`
  : taskset.error || taskset.status !== 0
    ? 'NOT PINNED: taskset (util-linux) was not found, so processes share the cores as the scheduler likes; CPU-ms per token still counts each server alone, rates do not'
    : `NOT PINNED: this machine has ${cores} CPU, two are needed`;

/** Starts a bench script as a child process, pinned to `cpu` when pinning works. */
function start(
  script: string,
  options: {
    cpu?: string;
    env?: Record<string, string>;
    ipc?: boolean;
    profile?: boolean;
  },
): ChildProcess {
  const node = [
    '--import',
    'tsx',
    ...(options.profile && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    benchFile(script),
  ];
  const [command, args] =
    pinning && options.cpu !== undefined
      ? ['taskset', ['-c', options.cpu, process.execPath, ...node]]
      : [process.execPath, node];
  const child = spawn(command, args as string[], {
    cwd: packageDir,
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'pipe', 'inherit', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  log(
    `started ${script} as PID ${child.pid}${pinning && options.cpu ? ` on CPU ${options.cpu}` : ''}`,
  );
  return child;
}

/** Pins an already running process, every thread of it. */
function pin(pid: number, cpus: string): void {
  if (pinning) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** Resolves with the port once the server prints {"port":N}. */
function listening(child: ChildProcess, name: string): Promise<number> {
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
function ask<T>(child: ChildProcess, command: unknown): Promise<T> {
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
async function stop(child: ChildProcess): Promise<void> {
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

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Cpu {
  userMs: number;
  systemMs: number;
}

/** utime and stime of the whole process (every thread), in ms, from /proc/<pid>/stat. */
function cpuOf(pid: number): Cpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    userMs: (Number(fields[11]) * 1000) / clockTicks,
    systemMs: (Number(fields[12]) * 1000) / clockTicks,
  };
}
const cpuMsOf = (pid: number) => {
  const { userMs, systemMs } = cpuOf(pid);
  return userMs + systemMs;
};

/** The process listening on 127.0.0.1:port on this machine, if /proc shows it (a JVM listens on
 * an IPv6 socket, 127.0.0.1 mapped, so tcp6 is read too). */
function pidListeningOn(port: number): number | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (local?.endsWith(`0100007F${suffix}`) && state === '0A') inodes.add(inode!);
    }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(entry);
      }
    } catch {}
  }
  return undefined;
}

// --- measuring -----------------------------------------------------------------------------------

interface Server {
  name: string;
  child: ChildProcess;
  target: Target;
}

interface Measured {
  load: LoadResult;
  /** Per server: CPU-ms over the window (all, and system time alone), tokens it issued. */
  servers: { cpuMs: number; systemMs: number; tokens: number }[];
  /** CPU-ms over the window of other processes watched (Kafka, Redis, the parent). */
  others: Map<string, number>;
}

const body = 'grant_type=client_credentials&scope=orders.read';

const loadCommand = (servers: Server[], perServer: number): LoadCommand => ({
  targets: servers.map((server) => server.target),
  body,
  concurrency: CONCURRENCY,
  count: perServer * servers.length,
});

async function warmUp(loader: ChildProcess, servers: Server[]): Promise<void> {
  assertTokens(await ask<LoadResult>(loader, loadCommand(servers, WARMUP_REQUESTS)), 'warmup');
}

/** `perServer` requests to each of `servers`, their CPU and that of `others` over the window. */
async function measure(
  loader: ChildProcess,
  servers: Server[],
  others: Map<string, number>,
  perServer: number,
): Promise<Measured> {
  const before = servers.map((server) => cpuOf(server.child.pid!));
  const othersBefore = new Map([...others].map(([name, pid]) => [name, cpuMsOf(pid)]));
  const load = await ask<LoadResult>(loader, loadCommand(servers, perServer));
  const after = servers.map((server) => cpuOf(server.child.pid!));
  assertTokens(load, 'measured window');
  return {
    load,
    servers: servers.map((_, i) => ({
      cpuMs: after[i]!.userMs + after[i]!.systemMs - before[i]!.userMs - before[i]!.systemMs,
      systemMs: after[i]!.systemMs - before[i]!.systemMs,
      tokens: load.perTarget[i]!,
    })),
    others: new Map(
      [...others].map(([name, pid]) => [name, cpuMsOf(pid) - othersBefore.get(name)!]),
    ),
  };
}

/** Several windows of the same servers as one. */
function pooled(runs: Measured[]): Measured {
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    load: {
      count: sum(runs.map((run) => run.load.count)),
      ms: sum(runs.map((run) => run.load.ms)),
      latenciesMs: runs.flatMap((run) => run.load.latenciesMs).sort((a, b) => a - b),
      perTarget: runs[0]!.load.perTarget.map((_, i) => sum(runs.map((r) => r.load.perTarget[i]!))),
      failures: {},
    },
    servers: runs[0]!.servers.map((_, i) => ({
      cpuMs: sum(runs.map((run) => run.servers[i]!.cpuMs)),
      systemMs: sum(runs.map((run) => run.servers[i]!.systemMs)),
      tokens: sum(runs.map((run) => run.servers[i]!.tokens)),
    })),
    others: new Map(
      [...runs[0]!.others.keys()].map((name) => [
        name,
        sum(runs.map((run) => run.others.get(name)!)),
      ]),
    ),
  };
}

const cpuPerToken = (run: Measured, i = 0) => run.servers[i]!.cpuMs / run.servers[i]!.tokens;
/** CPU per token of all the run's servers together. */
const pooledCpuPerToken = (run: Measured) =>
  run.servers.reduce((sum, s) => sum + s.cpuMs, 0) /
  run.servers.reduce((sum, s) => sum + s.tokens, 0);
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function assertTokens(result: LoadResult, what: string): void {
  const failed = Object.entries(result.failures);
  if (failed.length > 0)
    throw new Error(
      `${what}: responses that were not tokens, by HTTP status (0 = connection error): ${JSON.stringify(result.failures)}`,
    );
}

async function rawSign(child: ChildProcess, signingInput: string, privateKeyPem: string) {
  return ask<RawSignResult>(child, {
    signingInput,
    privateKeyPem,
    warmup: RAW_WARMUP,
    count: RAW_SIGNATURES,
  } satisfies RawSignCommand);
}

// --- Gatehouse's world: tenant, keys, scope, client, through the deciders ------------------------

async function setUpGatehouse(infrastructure: TestInfrastructure, keyPrefix: string) {
  const bus = new KafkaEventBus({
    brokers: infrastructure.kafka.brokers,
    clientId: 'bench-token-setup',
    log: () => {},
  });
  const store = new RedisProjectionStore({ url: infrastructure.redis.url, keyPrefix });
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  // The projector of this run: in the parent, so its work is not the token server's.
  const runner = await ProjectionRunner.start({
    bus,
    store,
    projections: [directoryProjection, keysProjection, grantsProjection, invalidationProjection],
    groupId: `bench-token-projector-${randomUUID()}`,
  });
  const kekSetting = newKekSetting('kek-bench');
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
  // Every event so far applied by the projector before any server reads.
  const positions: EventPosition[] = [];
  for (const topic of allTopics)
    for (const [partition, end] of await bus.endOffsets(topic))
      if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
  await waitForProjections(store, positions, { timeoutMs: 30_000 });
  const ring = new KeyRing(storeKeySource(store), keks);
  return {
    tenant,
    clientId,
    clientSecret,
    kekSetting,
    verificationKeys: () => ring.verificationKeys(tenant, 'default'),
    close: async () => {
      await runner.stop();
      await ring.close();
      await store.deleteByPrefix('');
      await Promise.all([bus.close(), store.close()]);
    },
  };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** One token request outside the measurement, to check the answer before anything is timed. */
async function tokenOnce(target: Target): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: target.authorization,
    },
    body,
  });
  const json = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !json.access_token)
    throw new Error(`${target.path}: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

// --- the run -------------------------------------------------------------------------------------

interface Row {
  measure: string;
  rate: string;
  p99: string;
  busy: string;
  cpu: string;
  vsRaw: string;
  target: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const fixed = (value: number, digits = 3) => value.toFixed(digits);
const perSecond = (count: number, ms: number) =>
  `${Math.round((count / ms) * 1000).toLocaleString('en')}/s`;

let infrastructure: TestInfrastructure | undefined;
let cleanupGatehouse: (() => Promise<void>) | undefined;
let finished = false;

async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child).catch(() => {})));
  await cleanupGatehouse?.().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  await infrastructure?.stop();
}

const deadline = setTimeout(() => {
  log(`stopped after ${DEADLINE_MS / 60_000} minutes`);
  killAllNow();
  void cleanUp().finally(() => process.exit(2));
}, DEADLINE_MS);
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

  const keyPrefix = `bench:${randomUUID()}:`;
  const gatehouse = await setUpGatehouse(infrastructure, keyPrefix);
  cleanupGatehouse = gatehouse.close;
  const gatehouseEnv = {
    GATEHOUSE_KAFKA_BROKERS: infrastructure.kafka.brokers.join(','),
    GATEHOUSE_REDIS_URL: infrastructure.redis.url,
    GATEHOUSE_KEK: gatehouse.kekSetting,
    GATEHOUSE_TOKEN_PORT: '0',
    GATEHOUSE_PUBLIC_URL: 'http://localhost:9000',
    GATEHOUSE_TENANT_MODE: 'path',
    GATEHOUSE_BENCH_REDIS_PREFIX: keyPrefix,
  };
  const gatehouseTarget = (port: number): Target => ({
    port,
    path: `/${gatehouse.tenant}/oauth2/default/v1/token`,
    authorization: basic(gatehouse.clientId, gatehouse.clientSecret),
  });
  const startGatehouse = async (cpu: string, name: string): Promise<Server> => {
    const child = start('gatehouse-server.ts', { cpu, env: gatehouseEnv, profile: true });
    return { name, child, target: gatehouseTarget(await listening(child, name)) };
  };

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const peerJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-1', use: 'sig' };
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const peerClient = { id: 'bench-peer-client', secret: randomBytes(32).toString('base64url') };

  const loader = start('load-generator.ts', { cpu: LOAD_CPU, ipc: true });
  watched.set('load generator', loader.pid!);
  const raw = start('raw-sign.ts', { cpu: SERVER_CPU, ipc: true });

  // Gatehouse must answer a token that verifies before anything is timed.
  const probe = await startGatehouse(SERVER_CPU, 'gatehouse');
  const gatehouseToken = await tokenOnce(probe.target);
  const checked = verifyJwt(gatehouseToken, {
    issuer: `http://localhost:9000/${gatehouse.tenant}/oauth2/default`,
    audience: 'api://default',
    keys: await gatehouse.verificationKeys(),
  });
  if ((checked.claims.scp as string[]).join(' ') !== 'orders.read')
    throw new Error(`gatehouse token: unexpected claims ${JSON.stringify(checked.claims)}`);
  await stop(probe.child);
  const signingInput = gatehouseToken.slice(0, gatehouseToken.lastIndexOf('.'));
  // Raw signing runs between the phases, so that each ratio has a baseline close to it in time.
  const raws = [await rawSign(raw, signingInput, privateKeyPem)];

  // The peer, alone on the servers' core; its token must verify too.
  const peerChild = start('oidc-provider-server.ts', {
    cpu: SERVER_CPU,
    env: {
      BENCH_PEER_JWK: JSON.stringify(peerJwk),
      BENCH_PEER_CLIENT_ID: peerClient.id,
      BENCH_PEER_CLIENT_SECRET: peerClient.secret,
    },
    profile: true,
  });
  const peer: Server = {
    name: 'oidc-provider',
    child: peerChild,
    target: {
      port: await listening(peerChild, 'oidc-provider'),
      path: '/token',
      authorization: basic(peerClient.id, peerClient.secret),
    },
  };
  const peerToken = await tokenOnce(peer.target);
  const lastDot = peerToken.lastIndexOf('.');
  if (
    !verify(
      'sha256',
      Buffer.from(peerToken.slice(0, lastDot)),
      publicKey,
      Buffer.from(peerToken.slice(lastDot + 1), 'base64url'),
    )
  )
    throw new Error('oidc-provider token: the signature does not verify');
  const peerClaims = JSON.parse(
    Buffer.from(peerToken.split('.')[1]!, 'base64url').toString(),
  ) as Record<string, unknown>;
  if (peerClaims.aud !== 'api://default' || peerClaims.scope !== 'orders.read')
    throw new Error(`oidc-provider token: unexpected claims ${JSON.stringify(peerClaims)}`);
  await warmUp(loader, [peer]);
  const peerRun = await measure(loader, [peer], watched, REQUESTS);
  await stop(peer.child);
  raws.push(await rawSign(raw, signingInput, privateKeyPem));

  // The floor: node:http alone answering a ready token, then signing one per request. No process
  // on node:http can issue a token for less than the second costs.
  const floorRuns: Measured[] = [];
  for (const mode of ['answer', 'sign'] as const) {
    const child = start('floor-server.ts', {
      cpu: SERVER_CPU,
      env: {
        BENCH_FLOOR_MODE: mode,
        BENCH_FLOOR_TOKEN: gatehouseToken,
        BENCH_FLOOR_KEY_PEM: privateKeyPem,
      },
    });
    const floor: Server = {
      name: `floor (${mode})`,
      child,
      target: {
        port: await listening(child, `floor (${mode})`),
        path: '/token',
        authorization: basic(peerClient.id, peerClient.secret),
      },
    };
    await warmUp(loader, [floor]);
    floorRuns.push(await measure(loader, [floor], watched, REQUESTS));
    await stop(child);
  }

  // Gatehouse: one process alone on the servers' core, and two processes sharing that core, in
  // alternate rounds (A idle in B's absence costs next to nothing), so that each ratio compares
  // windows seconds apart. With the core saturated both ways, whatever a second process
  // costs the first (through Kafka, Redis, the machine) shows as CPU per token.
  const sharing = [
    await startGatehouse(SERVER_CPU, 'gatehouse A'),
    await startGatehouse(SERVER_CPU, 'gatehouse B'),
  ];
  await warmUp(loader, sharing);
  const alone = sharing.slice(0, 1);
  const singleRounds: Measured[] = [];
  const sharedRounds: Measured[] = [];
  const sharingRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const aloneFirst = round % 2 === 0;
    const first = aloneFirst ? await measure(loader, alone, watched, ROUND_REQUESTS) : undefined;
    const both = await measure(loader, sharing, watched, ROUND_REQUESTS);
    const one = first ?? (await measure(loader, alone, watched, ROUND_REQUESTS));
    singleRounds.push(one);
    sharedRounds.push(both);
    sharingRatios.push(pooledCpuPerToken(both) / cpuPerToken(one));
  }
  const gatehouseRun = pooled(singleRounds);
  const sharedRun = pooled(sharedRounds);
  await Promise.all(sharing.map((server) => stop(server.child)));
  raws.push(await rawSign(raw, signingInput, privateKeyPem));

  // Then one per core, the load generator, Kafka, Redis and the projector unpinned beside them.
  if (pinning) {
    const both = `${SERVER_CPU},${LOAD_CPU}`;
    pin(loader.pid!, both);
    pin(process.pid, both);
    if (kafkaOurs && kafkaPid) pin(kafkaPid, both);
    if (redisOurs && redisPid) pin(redisPid, both);
  }
  const split = [
    await startGatehouse(SERVER_CPU, 'gatehouse A'),
    await startGatehouse(LOAD_CPU, 'gatehouse B'),
  ];
  await warmUp(loader, split);
  const splitRun = await measure(loader, split, watched, REQUESTS);
  await Promise.all(split.map((server) => stop(server.child)));
  raws.push(await rawSign(raw, signingInput, privateKeyPem));
  await Promise.all([stop(loader), stop(raw)]);

  // --- the table ---
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const rawCpus = raws.map((r) => r.cpuMsPerSignature);
  /** The raw baseline of a phase: the mean of the raw runs just before and just after it. */
  const rawNear = (before: number, after = before + 1) => mean([rawCpus[before]!, rawCpus[after]!]);
  const busy = (run: Measured) =>
    run.servers.map((s) => `${Math.round((s.cpuMs / run.load.ms) * 100)}%`).join(' + ');
  const eachCpu = (run: Measured) =>
    run.servers.map((_, i) => fixed(cpuPerToken(run, i))).join(' / ');
  const p99 = (run: Measured) =>
    `${run.load.latenciesMs[Math.floor(run.load.latenciesMs.length * 0.99)]!.toFixed(1)} ms`;
  const rate = (run: Measured) => run.load.count / run.load.ms;
  rows.push({
    measure: `raw node:crypto RS256 sign, ${signingInput.length}-byte input (${raws.length} runs)`,
    rate: `${Math.round(mean(raws.map((r) => r.perSecond))).toLocaleString('en')}/s`,
    p99: '',
    busy: '100%',
    cpu: `${fixed(Math.min(...rawCpus))}-${fixed(Math.max(...rawCpus))}`,
    vsRaw: 'baseline',
    target: '',
  });
  const peerRatio = cpuPerToken(peerRun) / rawNear(0);
  rows.push({
    measure: `oidc-provider ${peerVersion}: client_credentials, RS256 JWT access token`,
    rate: perSecond(peerRun.load.count, peerRun.load.ms),
    p99: p99(peerRun),
    busy: busy(peerRun),
    cpu: fixed(cpuPerToken(peerRun)),
    vsRaw: `${peerRatio.toFixed(2)}x`,
    target: `typically ~${PEER_TYPICAL}x (reference)`,
  });
  const [answerFloor, signFloor] = floorRuns as [Measured, Measured];
  const floorSignRatio = cpuPerToken(signFloor) / rawNear(1);
  rows.push({
    measure: 'floor: node:http answering a ready token (nothing signed, no event)',
    rate: perSecond(answerFloor.load.count, answerFloor.load.ms),
    p99: p99(answerFloor),
    busy: busy(answerFloor),
    cpu: fixed(cpuPerToken(answerFloor)),
    vsRaw: `+${(cpuPerToken(answerFloor) / rawNear(1)).toFixed(2)}x`,
    target: 'information: HTTP alone',
  });
  rows.push({
    measure: 'floor: node:http + one RS256 signature per request (no client, policy or event)',
    rate: perSecond(signFloor.load.count, signFloor.load.ms),
    p99: p99(signFloor),
    busy: busy(signFloor),
    cpu: fixed(cpuPerToken(signFloor)),
    vsRaw: `${floorSignRatio.toFixed(2)}x`,
    target: 'information: the least a node:http endpoint can cost',
  });
  const gatehouseRatio = cpuPerToken(gatehouseRun) / rawNear(1);
  rows.push({
    measure: 'gatehouse token: client_credentials, TokensIssued appended to Kafka',
    rate: perSecond(gatehouseRun.load.count, gatehouseRun.load.ms),
    p99: p99(gatehouseRun),
    busy: busy(gatehouseRun),
    cpu: fixed(cpuPerToken(gatehouseRun)),
    vsRaw: `${gatehouseRatio.toFixed(2)}x`,
    target: `<= ${GATEHOUSE_TARGET}x: ${gatehouseRatio <= GATEHOUSE_TARGET ? 'met' : 'NOT met'}`,
  });
  rows.push({
    measure: `gatehouse token, 2 processes sharing CPU ${SERVER_CPU} (rounds alternating with 1)`,
    rate: perSecond(sharedRun.load.count, sharedRun.load.ms),
    p99: p99(sharedRun),
    busy: busy(sharedRun),
    cpu: eachCpu(sharedRun),
    vsRaw: `${(pooledCpuPerToken(sharedRun) / rawNear(1)).toFixed(2)}x`,
    target: '',
  });
  rows.push({
    measure: 'gatehouse token, 2 processes on CPU 0 and 1, load gen + Kafka + Redis beside them',
    rate: perSecond(splitRun.load.count, splitRun.load.ms),
    p99: p99(splitRun),
    busy: busy(splitRun),
    cpu: eachCpu(splitRun),
    vsRaw: `${(pooledCpuPerToken(splitRun) / rawNear(2)).toFixed(2)}x`,
    target: '',
  });
  // With a core each, a process gives 1 / (its CPU per token) tokens per core-second; the CPU per
  // token of two processes sharing one saturated core is what each costs with the other running.
  // The median of the rounds' ratios: this machine's speed drifts by 10-20% within a run.
  const derivedScaling = 2 / median(sharingRatios);
  rows.push({
    measure: 'scaling, 2 processes vs 1: 2 / (CPU-ms/token of 2 sharing a core / of 1)',
    rate: `${derivedScaling.toFixed(2)}x`,
    p99: '',
    busy: '',
    cpu: '',
    vsRaw: '',
    target: `>= ${SCALING_TARGET}x: ${derivedScaling >= SCALING_TARGET ? 'met' : 'NOT met'} (derived)`,
  });
  rows.push({
    measure: 'scaling, 2 processes vs 1: tokens/s measured, 1 per core, no spare core',
    rate: `${(rate(splitRun) / rate(gatehouseRun)).toFixed(2)}x`,
    p99: '',
    busy: '',
    cpu: '',
    vsRaw: '',
    target: 'lower bound only',
  });
  for (const [name, ms] of gatehouseRun.others)
    rows.push({
      measure: `beside gatehouse (1 process): ${name}`,
      rate: '',
      p99: '',
      busy: `${Math.round((ms / gatehouseRun.load.ms) * 100)}%`,
      cpu: fixed(ms / gatehouseRun.load.count),
      vsRaw: `${(ms / gatehouseRun.load.count / rawNear(1)).toFixed(2)}x`,
      target: 'information',
    });

  const systemShare = (run: Measured) =>
    `${Math.round((run.servers.reduce((sum, s) => sum + s.systemMs, 0) / run.servers.reduce((sum, s) => sum + s.cpuMs, 0)) * 100)}%`;
  const infraAtDouble = [...gatehouseRun.others]
    .filter(([name]) => name === 'Kafka broker' || name === 'Redis')
    .map(
      ([name, ms]) => `${name} ${Math.round(((2 * ms) / gatehouseRun.load.ms) * 100)}% of a core`,
    );
  notes.push(
    `Gatehouse needs ${(cpuPerToken(gatehouseRun) / cpuPerToken(peerRun)).toFixed(2)}x the peer's CPU per token; beyond the signature, ${fixed(cpuPerToken(gatehouseRun) - rawNear(1))} ms against the peer's ${fixed(cpuPerToken(peerRun) - rawNear(0))} ms. System (kernel) time is ${systemShare(gatehouseRun)} of Gatehouse's CPU, ${systemShare(peerRun)} of the peer's.`,
    `Processes: ${pinNote}; the servers run the built dist, as production does; while one server (or two sharing CPU ${SERVER_CPU}) runs, Kafka, Redis and this process (the projector) are on CPU ${LOAD_CPU} too${kafkaOurs && redisOurs ? '' : ' (those this run started)'}. Node ${process.version}.`,
    `Load: ${CONCURRENCY} requests in flight per server on keep-alive connections, ${WARMUP_REQUESTS.toLocaleString('en')} warmup requests per server, then ${REQUESTS.toLocaleString('en')} measured per server; Gatehouse alone and 2 sharing a core: ${ROUNDS} alternating rounds of ${ROUND_REQUESTS.toLocaleString('en')} per process each. p99 is the load generator's, so it includes queueing at that concurrency.`,
    "CPU-ms per token: the server process's utime + stime (/proc/<pid>/stat, every thread) over the measured window / tokens it issued; busy = that CPU / the window's wall time. Rows 'beside gatehouse' are other processes over the same window, per token: not in the server's count.",
    `Raw: node:crypto sign('sha256') with an RSA-2048 key of Gatehouse's own token's signing input, ${RAW_SIGNATURES.toLocaleString('en')} back to back on CPU ${SERVER_CPU}, before, between and after the phases (${rawCpus.map((c) => fixed(c)).join(', ')} ms); each "vs raw" uses the runs next to its phase.`,
    `Scaling: CPU per token of 2 processes sharing a core / of 1 alone, by round: ${sharingRatios.map((r) => r.toFixed(2)).join(', ')}. This machine has 2 cores, so 2 processes with a core each leave none for the load generator, Kafka and Redis, and the measured ratio is only a lower bound. The derived ratio assumes each process gets a core of its own and costs what it cost with the other running; it holds only while Kafka and Redis keep up: at twice the single-process rate they would need ${infraAtDouble.join(' and ') || '(not measured: not local processes)'}.`,
  );
  finished = true;

  const widths = { measure: 0, rate: 0, p99: 0, busy: 0, cpu: 0, vsRaw: 0, target: 0 };
  const header: Row = {
    measure: 'measure',
    rate: 'tokens/s',
    p99: 'p99',
    busy: 'server CPU busy',
    cpu: 'CPU-ms/token',
    vsRaw: 'vs raw sign',
    target: 'target',
  };
  for (const row of [header, ...rows])
    for (const key of Object.keys(widths) as (keyof Row)[])
      widths[key] = Math.max(widths[key], row[key].length);
  const line = (r: Row) =>
    `| ${r.measure.padEnd(widths.measure)} | ${r.rate.padStart(widths.rate)} | ${r.p99.padStart(widths.p99)} | ${r.busy.padStart(widths.busy)} | ${r.cpu.padStart(widths.cpu)} | ${r.vsRaw.padEnd(widths.vsRaw)} | ${r.target.padEnd(widths.target)} |`;
  console.log(
    `\nbench:token on ${process.version}, ${cores} CPUs, Kafka ${infrastructure.kafka.version}, Redis ${infrastructure.redis.version}, ${new Date().toISOString()}`,
  );
  console.log(line(header));
  console.log(
    `|${Object.values(widths)
      .map((w) => '-'.repeat(w + 2))
      .join('|')}|`,
  );
  for (const row of rows) console.log(line(row));
  console.log('');
  for (const note of notes) console.log(`- ${note}`);
} finally {
  if (!finished) log('failed; stopping every child process');
  await cleanUp();
}
