// The distributed stack on one machine: Kafka and Redis from infra/local (or given), every service
// of the topology table as its own Node process running its built `dist/main.js` on its own ports,
// gRPC between them over mutual TLS (a dev CA in the stack's folder), every port on loopback only,
// and Debian's nginx as the edge, including the same infra/nginx/routes.conf as the container
// deployment. `pnpm stack` runs it in the foreground; the end-to-end suite drives it,
// killing and restarting single services.
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
  services(): RunningService[];
  /** Sends `signal` to one service's process and waits for it to exit. */
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service again, with the same settings and ports; waits until it is ready. */
  restart(name: ServiceName): Promise<void>;
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
  /** Its name in logs and pid files: the service's, or `token-2` for a second replica. */
  label?: string;
  env: NodeJS.ProcessEnv;
  httpPort?: number;
  grpcPort?: number;
  child?: ChildProcess;
  exited?: Promise<void>;
  stopping: boolean;
}

export async function startStack(options: StackOptions): Promise<Stack> {
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
      const started = await infra('redis.sh', ['start', '--dir', redisDir]);
      cleanups.push(() => infra('redis.sh', ['stop', '--dir', redisDir]));
      redisUrl = started.REDIS_URL!;
      log(`stack | redis at ${redisUrl}`);
    }

    const free = options.ports === 'free';
    const port = async (fixed: number) => (free ? freePort() : fixed);
    // The public URL is every tenant's issuer: a stack started again in this folder keeps it, or the
    // tokens and discovery documents of the last one would name another issuer.
    const publicPort = free ? await keptPort(join(options.dir, 'edge.port')) : edgePort;
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
    const managed = new Map<ServiceName, Managed>();
    for (const spec of services) {
      const httpPort = spec.http ? await port(spec.http.port) : undefined;
      const grpcPort = spec.grpc ? await port(spec.grpc.port) : undefined;
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
      if (spec.http) env[spec.http.env] = String(httpPort);
      if (spec.grpc) env[spec.grpc.env] = String(grpcPort);
      if (spec.requires.includes('GATEHOUSE_ADMIN_TOKEN')) env.GATEHOUSE_ADMIN_TOKEN = adminToken;
      if (spec.requires.includes('GATEHOUSE_KEK')) env.GATEHOUSE_KEK = kek;
      managed.set(spec.name, { spec, env, httpPort, grpcPort, stopping: false });
    }
    const token = managed.get('token')!;
    managed.get('authorize')!.env.GATEHOUSE_TOKEN_GRPC_URL = `127.0.0.1:${token.grpcPort}`;

    const launch = async (service: Managed) => {
      const { spec } = service;
      const label = service.label ?? spec.name;
      const main = join(repoRoot, 'services', spec.name, 'dist', 'main.js');
      const file = createWriteStream(join(logs, `${label}.log`), { flags: 'a' });
      files.push(file);
      service.stopping = false;
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
      child.kill(signal);
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await service.exited;
      clearTimeout(killed);
    };
    const replicas: Managed[] = [];
    cleanups.push(async () => {
      await Promise.all([...managed.values(), ...replicas].map((service) => halt(service)));
    });

    // The projector first: it creates the topics every other service expects.
    await launch(managed.get('projector')!);
    await Promise.all([...managed.values()].filter((s) => s.spec.name !== 'projector').map(launch));

    // The edge.
    const nginxDir = join(options.dir, 'nginx');
    const nginx = await startNginx({
      dir: nginxDir,
      port: publicPort,
      host: '127.0.0.1',
      pidFile: join(pids, 'nginx.pid'),
      upstreams: Object.fromEntries(
        [...managed.values()]
          // The projector's port (probes, metrics) is internal: no upstream of the edge.
          .filter((s) => s.httpPort !== undefined && s.spec.name !== 'projector')
          .map((s) => [s.spec.name, `127.0.0.1:${s.httpPort}`]),
      ),
    });
    cleanups.push(() => nginx.stop());
    await Promise.race([untilAnswers(`${url}/`), timeout(20_000, 'nginx did not answer')]);

    const ready = async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (const service of managed.values()) {
        if (service.httpPort === undefined) continue;
        const readyz = `http://127.0.0.1:${service.httpPort}/readyz`;
        for (;;) {
          // Ready (its connections up), and caught up: /readyz reports the lag without requiring it.
          const status = await fetch(readyz).then(
            async (r) => {
              const body = (await r.json().catch(() => ({}))) as {
                checks?: { projections?: { ok?: boolean } };
              };
              return r.status === 200 && body.checks?.projections?.ok === false ? 425 : r.status;
            },
            () => 0,
          );
          if (status === 200) break;
          if (Date.now() > deadline)
            throw new Error(`${service.spec.name} is not ready: /readyz ${status}`);
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
        [...managed.values()].map((s) => ({
          name: s.spec.name,
          pid: s.child?.exitCode === null && s.child.signalCode === null ? s.child.pid : undefined,
          httpPort: s.httpPort,
          grpcPort: s.grpcPort,
        })),
      kill: (name, signal = 'SIGKILL') => halt(managed.get(name)!, signal),
      restart: async (name) => {
        const service = managed.get(name)!;
        await halt(service);
        await launch(service);
      },
      addReplica: async (name) => {
        const { spec, env } = managed.get(name)!;
        const replica: Managed = {
          spec,
          label: `${name}-${replicas.filter((r) => r.spec.name === name).length + 2}`,
          env: { ...env },
          httpPort: spec.http ? await freePort() : undefined,
          grpcPort: spec.grpc ? await freePort() : undefined,
          stopping: false,
        };
        if (spec.http) replica.env[spec.http.env] = String(replica.httpPort);
        if (spec.grpc) replica.env[spec.grpc.env] = String(replica.grpcPort);
        replicas.push(replica);
        await launch(replica);
        return {
          name,
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
  upstreams: Record<string, string>;
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
