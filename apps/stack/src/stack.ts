// The distributed stack on one machine: Kafka and Redis from infra/local (or given), every service
// of the topology table as its own Node process running its built `dist/main.js` on its own ports,
// gRPC between them over mutual TLS (a dev CA in the stack's folder), every port on loopback only,
// and Debian's nginx as the edge, including the same infra/nginx/routes.conf as the container
// deployment. A service may run as several replicas, each its own process on its own ports, pooled
// behind the edge and, for token, behind authorize's round-robin gRPC channel. `pnpm stack` runs it
// in the foreground; the end-to-end suite drives it, killing, pausing and restarting replicas.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type DevCertificateFiles, loadOrCreateDevCertificates } from '@gatehouse/dev-certificates';
import {
  edgePort,
  nginxLogFormat,
  nginxUpstreams,
  replicaCount,
  type ServiceName,
  type ServiceSpec,
  services,
} from '@gatehouse/topology';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface StackOptions {
  /** Working directory: logs, Kafka's and Redis's data, nginx's prefix. */
  dir: string;
  /**
   * `default`: the ports of the topology table and 9000 for the edge; `free`: any free ports (the
   * edge's, the public URL, kept in `dir` for the next stack there).
   */
  ports?: 'default' | 'free';
  /** Use this Kafka and this Redis instead of starting them. */
  kafkaBrokers?: string;
  redisUrl?: string;
  /**
   * The Redis the stack starts itself: a primary, a replica and three Sentinels
   * (infra/local/redis.sh --sentinel), the services following the primary through them. Default
   * false: one Redis.
   */
  redisSentinel?: boolean;
  /**
   * Brokers of the Kafka the stack starts itself (infra/local/kafka.sh --brokers). Default 1.
   * The services' GATEHOUSE_KAFKA_REPLICATION_FACTOR / _MIN_INSYNC_REPLICAS follow it: 3 and 2
   * from three brokers on, else one copy per broker and 1 in sync. With `kafkaBrokers` given, the
   * brokers listed count the same way; `env` overrides either.
   */
  kafkaNodes?: number;
  /** The system API token; generated when absent. */
  adminToken?: string;
  /** GATEHOUSE_KEK for the services; generated when absent. */
  kek?: string;
  /**
   * Where the gRPC certificates are: a CA (ca.pem) and `<service>.pem` / `<service>-key.pem` for
   * each service. Default `{dir}/certs`, where a dev CA and the services' certificates are made on
   * first start and kept.
   */
  certsDir?: string;
  /** Extra settings for every service. */
  env?: Record<string, string>;
  /** Every line the services and the infrastructure print, prefixed with where it came from. */
  log?: (line: string) => void;
  /**
   * How many replicas of each service run behind the edge (default: the topology table's count,
   * 1). Replica 1 keeps the service's name in logs and pid files (`token`), the others are
   * `token-2`, `token-3`, ...; replica 1 has the table's ports (with `ports: 'default'`), the
   * others free ones.
   */
  replicas?: Partial<Record<ServiceName, number>>;
}

/**
 * One replica, or every replica of a service: `'token'` (all of them), `'token-2'` (the second),
 * `{ service: 'token', replica: 2 }`. Replica 1 is also `'token-1'`.
 */
export type ReplicaAddress = ServiceName | `${ServiceName}-${number}` | ReplicaOf;
export interface ReplicaOf {
  service: ServiceName;
  replica: number;
}

/**
 * The replication a stack's topics can have on `brokers` brokers: the services default to 3 and 2,
 * which one broker could not hold (they would refuse to start, as they should in production).
 */
export function kafkaReplication(brokers: number): Record<string, string> {
  const replicationFactor = Math.min(3, Math.max(1, brokers));
  return {
    GATEHOUSE_KAFKA_REPLICATION_FACTOR: String(replicationFactor),
    GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: replicationFactor >= 3 ? '2' : '1',
  };
}

export interface RunningService {
  name: ServiceName;
  /** 1, 2, ...: which replica of its service. */
  replica: number;
  /** Its name in logs and pid files: `token` for replica 1, `token-2` for the second. */
  label: string;
  pid: number | undefined;
  httpPort?: number;
  grpcPort?: number;
}

export interface Stack {
  /** The edge: the public URL of every tenant. */
  url: string;
  adminToken: string;
  kafkaBrokers: string;
  redisUrl: string;
  /** The files of the gRPC plane's CA and of each service's certificate and key. */
  certificates: DevCertificateFiles;
  /** Every replica of every service behind the edge. */
  services(): RunningService[];
  /**
   * Sends `signal` (default SIGKILL) to a replica's process, or to every replica's of a service,
   * and waits for them to exit. A paused one is continued first, so that it can act on the signal.
   */
  kill(target: ReplicaAddress, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts a replica (or every replica of a service) again, with the same settings and ports,
   * stopping it first if it runs; waits until it listens.
   */
  restart(target: ReplicaAddress): Promise<void>;
  /** SIGSTOP: the replica's process stays, its connections open, and it answers nothing. */
  pause(target: ReplicaAddress): Promise<void>;
  /** SIGCONT: a paused replica goes on. */
  resume(target: ReplicaAddress): Promise<void>;
  /**
   * Starts one more replica of a service, with its settings on ports of its own (not behind the
   * edge); it stops with the stack or when its `stop` is called.
   */
  addReplica(name: ServiceName): Promise<RunningService & { stop(): Promise<void> }>;
  /** Waits until every HTTP service's /readyz says ready and its read models are fresh. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface Managed {
  spec: ServiceSpec;
  replica: number;
  /** Its name in logs and pid files: the service's, or `token-2` for a second replica. */
  label: string;
  env: NodeJS.ProcessEnv;
  httpPort?: number;
  grpcPort?: number;
  child?: ChildProcess;
  exited?: Promise<void>;
  stopping: boolean;
  paused?: boolean;
}

/** `token` for replica 1, `token-2` for the second. */
export function replicaLabel(service: ServiceName, replica: number): string {
  return replica === 1 ? service : `${service}-${replica}`;
}

/** The replica counts of `options.replicas` over the table's, checked. */
function replicaCounts(
  replicas: Partial<Record<ServiceName, number>> = {},
): Record<ServiceName, number> {
  for (const [name, count] of Object.entries(replicas)) {
    if (!services.some((spec) => spec.name === name))
      throw new Error(`replicas: no service ${name} (${services.map((s) => s.name).join(', ')})`);
    if (!Number.isInteger(count) || count! < 1 || count! > 16)
      throw new Error(`replicas: ${name}=${count} is not a count from 1 to 16`);
  }
  return Object.fromEntries(
    services.map((spec) => [spec.name, replicas[spec.name] ?? replicaCount(spec)]),
  ) as Record<ServiceName, number>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const counts = replicaCounts(options.replicas);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logs = join(options.dir, 'logs');
  await mkdir(logs, { recursive: true });
  const cleanups: (() => Promise<unknown>)[] = [];
  const files: WriteStream[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`stack | stopping: ${(error as Error).message}`);
      }
    }
    for (const file of files) file.end();
  };

  try {
    // A stack that ran here before and was killed: its reaper may still be stopping its processes
    // (Kafka among them, on this very data). Start once it is done.
    await waitForReaper(options.dir);
    // Whatever happens to this process (Ctrl-C through pnpm's shims, SIGKILL), a detached reaper
    // stops what it started once it is gone.
    const pids = join(options.dir, 'pids');
    await rm(pids, { recursive: true, force: true });
    await mkdir(pids, { recursive: true });
    startReaper(options.dir, pids, {
      kafka: !options.kafkaBrokers,
      redis: !options.redisUrl,
    });

    // Infrastructure.
    let kafkaBrokers = options.kafkaBrokers;
    if (!kafkaBrokers) {
      const kafkaDir = join(options.dir, 'kafka');
      const started = await infra('kafka.sh', [
        'start',
        '--dir',
        kafkaDir,
        '--brokers',
        String(options.kafkaNodes ?? 1),
      ]);
      cleanups.push(() => infra('kafka.sh', ['stop', '--dir', kafkaDir]));
      kafkaBrokers = started.KAFKA_BROKERS!;
      log(`stack | kafka ${started.KAFKA_VERSION ?? ''} at ${kafkaBrokers}`);
    }
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      const redisDir = join(options.dir, 'redis');
      const started = await infra('redis.sh', [
        'start',
        '--dir',
        redisDir,
        ...(options.redisSentinel ? ['--sentinel'] : []),
      ]);
      cleanups.push(() => infra('redis.sh', ['stop', '--dir', redisDir]));
      redisUrl = started.REDIS_URL!;
      log(`stack | redis at ${redisUrl}`);
    }

    const free = options.ports === 'free';
    // The public URL is every tenant's issuer: a stack started again in this folder keeps it, or the
    // tokens and discovery documents of the last one would name another issuer.
    const publicPort = free ? await keptPort(join(options.dir, 'edge.port')) : edgePort;
    // Every port this stack hands out, once (see distinctPorts).
    const ports = distinctPorts(freePort, [publicPort]);
    const newPort = ports.next;
    const port = async (fixed: number) => (free ? newPort() : ports.reserve(fixed));
    const url = `http://${free ? '127.0.0.1' : 'localhost'}:${publicPort}`;
    const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
    const kek = options.kek ?? `kek-stack:${randomBytes(32).toString('base64')}`;

    // gRPC between the services is mutual TLS only: each service with a gRPC side (a server, or a
    // client of one) gets its own certificate, which names it to its peers.
    const hasGrpc = (spec: ServiceSpec) => spec.requires.includes('GATEHOUSE_GRPC_TLS_CERT');
    const certificates = await loadOrCreateDevCertificates(
      options.certsDir ?? join(options.dir, 'certs'),
      services.filter(hasGrpc).map((spec) => spec.name),
    );
    // Every replica of a service, in order: replica 1 first.
    const managed = new Map<ServiceName, Managed[]>();
    for (const spec of services) {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: process.env.TMPDIR,
        NODE_ENV: 'production',
        GATEHOUSE_KAFKA_BROKERS: kafkaBrokers,
        ...kafkaReplication(kafkaBrokers.split(',').length),
        GATEHOUSE_REDIS_URL: redisUrl,
        GATEHOUSE_PUBLIC_URL: url,
        // The edge and the services talk on loopback; nothing else on the network reaches them.
        ...(spec.http ? { GATEHOUSE_BIND_ADDRESS: '127.0.0.1' } : {}),
        ...(hasGrpc(spec)
          ? {
              GATEHOUSE_GRPC_TLS_CA: certificates.ca,
              GATEHOUSE_GRPC_TLS_CERT: certificates.cert(spec.name),
              GATEHOUSE_GRPC_TLS_KEY: certificates.key(spec.name),
            }
          : {}),
        ...options.env,
      };
      // The services behind the edge (nginx on this machine) believe its X-Forwarded-For, so that
      // budgets per source address count the client's address, not the edge's.
      if (spec.optional.includes('GATEHOUSE_TRUSTED_PROXIES'))
        env.GATEHOUSE_TRUSTED_PROXIES ??= '127.0.0.1,::1';
      if (spec.requires.includes('GATEHOUSE_ADMIN_TOKEN')) env.GATEHOUSE_ADMIN_TOKEN = adminToken;
      if (spec.requires.includes('GATEHOUSE_KEK')) env.GATEHOUSE_KEK = kek;
      const pool: Managed[] = [];
      for (let replica = 1; replica <= counts[spec.name]; replica++) {
        // Replica 1 on the table's ports (default mode), the others wherever is free.
        const httpPort = spec.http
          ? replica === 1
            ? await port(spec.http.port)
            : await newPort()
          : undefined;
        const grpcPort = spec.grpc
          ? replica === 1
            ? await port(spec.grpc.port)
            : await newPort()
          : undefined;
        // Its name among the service's replicas, stable across its restarts: its own Kafka groups
        // (the caches' followers) are named after it, and taken again, not leaked, by a restart.
        const own: NodeJS.ProcessEnv = {
          ...env,
          GATEHOUSE_REPLICA_ID: replicaLabel(spec.name, replica),
        };
        if (spec.http) own[spec.http.env] = String(httpPort);
        if (spec.grpc) own[spec.grpc.env] = String(grpcPort);
        pool.push({
          spec,
          replica,
          label: replicaLabel(spec.name, replica),
          env: own,
          httpPort,
          grpcPort,
          stopping: false,
        });
      }
      managed.set(spec.name, pool);
    }
    const replicasOf = (name: ServiceName) => managed.get(name)!;
    const everyReplica = () => [...managed.values()].flat();
    // authorize mints through every token replica, round-robin (see @gatehouse/internal-plane).
    const tokenGrpc = replicasOf('token')
      .map((replica) => `127.0.0.1:${replica.grpcPort}`)
      .join(',');
    for (const authorize of replicasOf('authorize'))
      authorize.env.GATEHOUSE_TOKEN_GRPC_URL = tokenGrpc;

    const launch = async (service: Managed) => {
      const { spec, label } = service;
      const main = join(repoRoot, 'services', spec.name, 'dist', 'main.js');
      const file = createWriteStream(join(logs, `${label}.log`), { flags: 'a' });
      files.push(file);
      service.stopping = false;
      service.paused = false;
      const child = spawn(process.execPath, [main], {
        cwd: join(repoRoot, 'services', spec.name),
        env: service.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      service.child = child;
      const pidFile = join(pids, `${label}.pid`);
      await writeFile(pidFile, String(child.pid));
      let consuming: () => void = () => {};
      const consumingLine = new Promise<void>((resolve) => {
        consuming = resolve;
      });
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          file.write(`${line}\n`);
          log(`${label.padEnd(9)} | ${line}`);
          if (line.includes('"message":"consuming"') || line.includes('"message":"listening"'))
            consuming();
        });
      }
      service.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          rmSync(pidFile, { force: true });
          if (!service.stopping)
            log(`stack | ${label} exited unexpectedly (${signal ?? `code ${code}`})`);
          resolve();
        });
      });
      const died = service.exited.then(() => {
        throw new Error(`${label} exited while starting; see ${join(logs, `${label}.log`)}`);
      });
      await Promise.race([
        Promise.all([
          consumingLine,
          service.httpPort ? untilAnswers(`http://127.0.0.1:${service.httpPort}/`) : undefined,
        ]),
        died,
        timeout(60_000, `${label} did not start within 60 s`),
      ]);
    };
    const halt = async (service: Managed, signal: NodeJS.Signals = 'SIGTERM') => {
      const child = service.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      service.stopping = true;
      // A stopped process acts on no signal but SIGKILL until it is continued.
      if (service.paused) child.kill('SIGCONT');
      service.paused = false;
      child.kill(signal);
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await service.exited;
      clearTimeout(killed);
    };
    const replicas: Managed[] = [];
    cleanups.push(async () => {
      await Promise.all([...everyReplica(), ...replicas].map((service) => halt(service)));
    });

    // The projector first: it creates the topics every other service expects.
    await launch(replicasOf('projector')[0]!);
    await Promise.all(
      everyReplica()
        .filter((s) => s.spec.name !== 'projector' || s.replica > 1)
        .map(launch),
    );

    // The edge.
    const nginxDir = join(options.dir, 'nginx');
    const nginx = await startNginx({
      dir: nginxDir,
      port: publicPort,
      host: '127.0.0.1',
      pidFile: join(pids, 'nginx.pid'),
      // A pool per service, every replica in it.
      upstreams: Object.fromEntries(
        [...managed.entries()]
          // The projector's port (probes, metrics) is internal: no upstream of the edge.
          .filter(([name, pool]) => pool[0]!.httpPort !== undefined && name !== 'projector')
          .map(([name, pool]) => [name, pool.map((s) => `127.0.0.1:${s.httpPort}`)]),
      ),
    });
    cleanups.push(() => nginx.stop());
    await Promise.race([untilAnswers(`${url}/`), timeout(20_000, 'nginx did not answer')]);

    /** The replicas a kill, restart, pause or resume is for; an unknown one is an error. */
    const addressed = (target: ReplicaAddress): Managed[] => {
      const { service, replica } = parseReplicaAddress(target);
      const pool = managed.get(service);
      if (!pool) throw new Error(`no service ${service}`);
      if (replica === undefined) return pool;
      const one = pool.find((s) => s.replica === replica);
      if (!one)
        throw new Error(
          `${service} has no replica ${replica} (it runs ${pool.length} behind the edge)`,
        );
      return [one];
    };
    const signalRunning = (service: Managed, signal: NodeJS.Signals, paused: boolean) => {
      const child = service.child;
      if (!child || child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${service.label} is not running`);
      child.kill(signal);
      service.paused = paused;
      log(`stack | ${service.label} ${paused ? 'paused (SIGSTOP)' : 'resumed (SIGCONT)'}`);
    };

    const ready = async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (const service of everyReplica()) {
        if (service.httpPort === undefined) continue;
        const readyz = `http://127.0.0.1:${service.httpPort}/readyz`;
        for (;;) {
          // Ready (its connections up), and caught up: /readyz reports the lag without requiring it.
          let said = '';
          const status = await fetch(readyz).then(
            async (r) => {
              const body = (await r.json().catch(() => ({}))) as {
                checks?: { projections?: { ok?: boolean } };
              };
              said = JSON.stringify(body);
              return r.status === 200 && body.checks?.projections?.ok === false ? 425 : r.status;
            },
            () => 0,
          );
          if (status === 200) break;
          if (Date.now() > deadline)
            throw new Error(`${service.label} is not ready: /readyz ${status} ${said}`);
          await sleep(100);
        }
      }
    };
    await ready();
    log(`stack | ready: ${url} (logs in ${logs})`);

    return {
      url,
      adminToken,
      kafkaBrokers,
      redisUrl,
      certificates,
      services: () =>
        everyReplica().map((s) => ({
          name: s.spec.name,
          replica: s.replica,
          label: s.label,
          pid: s.child?.exitCode === null && s.child.signalCode === null ? s.child.pid : undefined,
          httpPort: s.httpPort,
          grpcPort: s.grpcPort,
        })),
      kill: async (target, signal = 'SIGKILL') => {
        await Promise.all(addressed(target).map((service) => halt(service, signal)));
      },
      restart: async (target) => {
        const chosen = addressed(target);
        await Promise.all(chosen.map((service) => halt(service)));
        await Promise.all(chosen.map(launch));
      },
      pause: async (target) => {
        for (const service of addressed(target)) signalRunning(service, 'SIGSTOP', true);
      },
      resume: async (target) => {
        for (const service of addressed(target)) signalRunning(service, 'SIGCONT', false);
      },
      addReplica: async (name) => {
        const { spec, env } = replicasOf(name)[0]!;
        const taken = [...replicasOf(name), ...replicas.filter((r) => r.spec.name === name)];
        const number = Math.max(...taken.map((r) => r.replica)) + 1;
        const replica: Managed = {
          spec,
          replica: number,
          label: replicaLabel(name, number),
          env: { ...env, GATEHOUSE_REPLICA_ID: replicaLabel(name, number) },
          httpPort: spec.http ? await newPort() : undefined,
          grpcPort: spec.grpc ? await newPort() : undefined,
          stopping: false,
        };
        if (spec.http) replica.env[spec.http.env] = String(replica.httpPort);
        if (spec.grpc) replica.env[spec.grpc.env] = String(replica.grpcPort);
        replicas.push(replica);
        await launch(replica);
        return {
          name,
          replica: replica.replica,
          label: replica.label,
          pid: replica.child?.pid,
          httpPort: replica.httpPort,
          grpcPort: replica.grpcPort,
          stop: () => halt(replica),
        };
      },
      ready,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `token-2` as `{ service: 'token', replica: 2 }`; `token` as every replica of token. */
export function parseReplicaAddress(target: ReplicaAddress): {
  service: ServiceName;
  replica?: number;
} {
  if (typeof target !== 'string') return { service: target.service, replica: target.replica };
  const match = /^([a-z]+)(?:-(\d+))?$/.exec(target);
  const service = match?.[1] as ServiceName | undefined;
  if (!match || !services.some((spec) => spec.name === service))
    throw new Error(`${JSON.stringify(target)} names no service or replica (e.g. token, token-2)`);
  return match[2] === undefined
    ? { service: service! }
    : { service: service!, replica: Number(match[2]) };
}

/**
 * A detached shell that waits for this process to end, then stops every process whose pid file is
 * still in `pids` (a process that exits removes its file) and the Kafka and Redis it started.
 */
function startReaper(dir: string, pids: string, started: { kafka: boolean; redis: boolean }) {
  const local = join(repoRoot, 'infra', 'local');
  const script = [
    `. "${local}/lib.sh"`,
    `echo $$ > "${join(dir, 'reaper.pid')}"`,
    // `alive`, not kill -0: a stack killed but not yet reaped by its parent is a zombie, and dead.
    `while alive ${process.pid}; do sleep 1; done`,
    `for f in "${pids}"/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done`,
    'sleep 3',
    `for f in "${pids}"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; rm -f "$f"; done`,
    started.kafka ? `bash "${local}/kafka.sh" stop --dir "${join(dir, 'kafka')}"` : '',
    started.redis ? `bash "${local}/redis.sh" stop --dir "${join(dir, 'redis')}"` : '',
    `rm -f "${join(dir, 'reaper.pid')}"`,
  ].join('\n');
  const reaper = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.unref();
}

/**
 * Waits for the reaper of a stack that ran in `dir` before: while its stack lives it waits too (a
 * second stack in the same folder at the same time is refused by Kafka's own start script).
 */
async function waitForReaper(dir: string): Promise<void> {
  const file = join(dir, 'reaper.pid');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (!pid || !isAlive(pid)) return;
    if (Date.now() > deadline)
      throw new Error(`a stack still runs, or is still stopping, in ${dir}`);
    await sleep(250);
  }
}

/** Whether a process runs (a zombie does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = (() => {
    try {
      return readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return '';
    }
  })();
  return !/^State:\s*Z/m.test(status);
}

/** Runs an infra/local script and reads its `NAME=value` lines. */
async function infra(script: string, args: string[]): Promise<Record<string, string>> {
  const { stdout } = await run('bash', [join(repoRoot, 'infra', 'local', script), ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

/** Runs Debian's nginx unprivileged-style: its own prefix, pid, logs and temp paths under `dir`. */
export async function startNginx(options: {
  dir: string;
  port: number;
  host: string;
  /** Each service's pool: one address, or one per replica. */
  upstreams: Record<string, string | readonly string[]>;
  /** Where the reaper finds nginx's pid while it runs. */
  pidFile: string;
}): Promise<{ stop(): Promise<void> }> {
  const { stdout } = await run('bash', [join(repoRoot, 'infra', 'local', 'nginx.sh'), 'path']);
  const binary = stdout.trim();
  const tmp = join(options.dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  // As root nginx hands requests to workers running as nobody: they must be able to buffer bodies.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(tmp, 0o777);
  const conf = join(options.dir, 'nginx.conf');
  await writeFile(
    conf,
    [
      "# Written by apps/stack: the edge of `pnpm stack`. The routes are the containers' own.",
      asRoot ? 'user nobody nogroup;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(options.dir, 'nginx.pid')};`,
      `error_log ${join(options.dir, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  ${nginxLogFormat}`,
      `  access_log ${join(options.dir, 'access.log')} gatehouse;`,
      '  server_tokens off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${join(tmp, kind)};`,
      ),
      nginxUpstreams(options.upstreams)
        .split('\n')
        .map((line) => (line ? `  ${line}` : line))
        .join('\n'),
      '  server {',
      `    listen ${options.host}:${options.port};`,
      `    include ${join(repoRoot, 'infra', 'nginx', 'routes.conf')};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const { pidFile } = options;
  const child = spawn(
    binary,
    ['-e', join(options.dir, 'error.log'), '-p', options.dir, '-c', conf],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  await writeFile(pidFile, String(child.pid));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      rmSync(pidFile, { force: true });
      resolve();
    }),
  );
  const early = await Promise.race([exited.then(() => true), sleep(300).then(() => false)]);
  if (early) throw new Error(`nginx did not start: ${stderr.trim()}`);
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** Resolves once anything answers HTTP at `url`; gives up after `withinMs`. */
async function untilAnswers(url: string, withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`nothing answered at ${url}`);
    const answered = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      async (response) => {
        await response.body?.cancel();
        return true;
      },
      () => false,
    );
    if (answered) return;
    await sleep(100);
  }
}

/** The port kept in `file` while nothing listens on it, else a free one (then kept there). */
async function keptPort(file: string): Promise<number> {
  const kept = Number(await readFile(file, 'utf8').catch(() => ''));
  if (kept && (await portFree(kept))) return kept;
  const port = await freePort();
  await writeFile(file, String(port));
  return port;
}

/** Whether nothing listens on `port` of 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Ports from `probe` (free ones), each handed out once: a port found free is free again once its
 * probe closes, and the next probe may be given the same one (a CI run had admin and authorize
 * on one port, and authorize refused to start). `reserve` marks a fixed port as handed out.
 */
export function distinctPorts(probe: () => Promise<number>, reserved: readonly number[] = []) {
  const handedOut = new Set(reserved);
  return {
    next: async (): Promise<number> => {
      for (;;) {
        const candidate = await probe();
        if (!handedOut.has(candidate)) {
          handedOut.add(candidate);
          return candidate;
        }
      }
    },
    reserve: (port: number): number => {
      handedOut.add(port);
      return port;
    },
  };
}

/** A port nothing listens on now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
