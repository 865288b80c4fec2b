// The two deployments the suite runs against, each started the way a user starts it: `pnpm start`
// as a process of its own, and the distributed stack (Kafka, Redis, six service processes, nginx).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  freePort,
  portFree,
  repoRoot,
  type Stack,
  type StackOptions,
  startStack,
} from '@gatehouse/stack';

export interface Target {
  name: string;
  /** The public URL: a tenant's org base is `{url}/{tenant}`. */
  url: string;
  adminToken: string;
}

export interface AllInOneTarget extends Target {
  /** GATEHOUSE_DATA_DIR: the event log, secrets.json and demo.json. */
  dataDir: string;
  /** Everything the process printed, one entry per line. */
  output: string[];
  /** How long from spawning `pnpm start` to the server listening, in ms. */
  startMs: number;
  /** Where its /metrics is (GATEHOUSE_METRICS_PORT, a free port here), as its listening line says. */
  metricsUrl(): string;
  /** Kills the process (SIGKILL: no clean shutdown) and starts it again on the same data. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `pnpm start` from the repository root on a free port and a fresh data directory. */
export async function startAllInOneTarget(): Promise<AllInOneTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-data-'));
  const port = await freePort();
  const adminToken = randomBytes(32).toString('base64url');
  const output: string[] = [];
  let child: ChildProcess | undefined;

  const launch = async () => {
    const started = Date.now();
    child = spawn('pnpm', ['start'], {
      cwd: repoRoot,
      // Its own process group: the kill reaches pnpm, its shims and the server alike.
      detached: true,
      env: {
        ...process.env,
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_PORT: String(port),
        // Metrics on a port of their own: any free one, printed in the listening line.
        GATEHOUSE_METRICS_PORT: '0',
        GATEHOUSE_ADMIN_TOKEN: adminToken,
        GATEHOUSE_PUBLIC_URL: '',
        GATEHOUSE_KEK: '',
        // The tests stand in for a proxy on this machine: they present sources with X-Forwarded-For.
        GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1,::1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const current = child;
    const exited = new Promise<never>((_, reject) =>
      current.once('exit', (code, signal) =>
        reject(
          new Error(
            `pnpm start exited (${signal ?? code}) before it was ready:\n${output.slice(-30).join('\n')}`,
          ),
        ),
      ),
    );
    let listening: () => void = () => {};
    let bannerDone: () => void = () => {};
    const isListening = new Promise<void>((resolve) => {
      listening = resolve;
    });
    const banner = new Promise<void>((resolve) => {
      bannerDone = resolve;
    });
    for (const stream of [current.stdout!, current.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('"message":"listening"')) listening();
        if (line.includes('PKCE code_verifier for it:')) bannerDone();
      });
    }
    await Promise.race([isListening, exited, deadline(60_000, 'pnpm start did not listen')]);
    const startMs = Date.now() - started;
    await Promise.race([banner, exited, deadline(30_000, 'pnpm start printed no demo')]);
    exited.catch(() => {});
    return startMs;
  };

  const kill = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    process.kill(-current.pid!, signal);
    await gone;
    // The server itself may outlive pnpm by a moment: wait until no process of the group is left
    // and the port is free again.
    for (let i = 0; i < 100 && (groupAlive(current.pid!) || !(await portFree(port))); i++)
      await sleep(100);
  };

  const startMs = await launch();
  return {
    name: 'all-in-one (pnpm start)',
    url: `http://localhost:${port}`,
    adminToken,
    dataDir,
    output,
    startMs,
    metricsUrl() {
      for (const line of output) {
        if (!line.includes('"message":"listening"')) continue;
        const url = (JSON.parse(line) as { metricsUrl?: string }).metricsUrl;
        if (url) return url;
      }
      throw new Error(`no metricsUrl in the listening line:\n${output.join('\n')}`);
    },
    async crashAndRestart() {
      await kill('SIGKILL');
      output.length = 0;
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface StackTarget extends Target {
  stack: Stack;
  /** The stack's folder: logs, Kafka's and Redis's data (infra/local's scripts take it). */
  dir: string;
  /** Every log line the stack's services and its edge wrote so far (logs/*.log, nginx's access log). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/** The distributed stack on free ports, with its own Kafka and Redis, through the nginx edge. */
export async function startStackTarget(
  options: Omit<StackOptions, 'dir' | 'ports' | 'log'> = {},
): Promise<StackTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-stack-'));
  const lines: string[] = [];
  const stack = await startStack({
    ...options,
    dir,
    ports: 'free',
    log: (line) => {
      lines.push(line);
      if (lines.length > 2000) lines.splice(0, 1000);
    },
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${lines.slice(-40).join('\n')}`);
  });
  return {
    name: 'distributed stack (nginx edge)',
    url: stack.url,
    adminToken: stack.adminToken,
    stack,
    dir,
    async logs() {
      const files = [
        ...(await readdir(join(dir, 'logs'))).map((name) => join(dir, 'logs', name)),
        join(dir, 'nginx', 'access.log'),
      ];
      const texts = await Promise.all(files.map((file) => readFile(file, 'utf8').catch(() => '')));
      return texts.join('\n');
    },
    async stop() {
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function deadline(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

export interface ComposeTarget extends Target {
  stop(): Promise<void>;
}

export interface ComposeStack {
  /** `compose.sh up`: resolves once every service is healthy and ready. */
  start(): Promise<ComposeTarget>;
  /**
   * Takes the stack down whatever state `start` reached: an `up` still running (a hook that timed
   * out) is stopped — compose.sh gets SIGTERM and its trap runs `down` — and a
   * stack that came up gets `compose.sh down`.
   */
  stop(): Promise<void>;
}

/**
 * docker-compose.yml on a container engine (infra/containers/compose.sh: the service images built
 * from their Dockerfiles, Kafka, Redis and the nginx edge), through the edge's port on 127.0.0.1.
 */
export function composeStack(): ComposeStack {
  const script = join(repoRoot, 'infra', 'containers', 'compose.sh');
  let dir: string | undefined;
  let up: ChildProcess | undefined;
  let started = false;
  const run = (command: 'up' | 'down', workDir: string) => {
    const child = spawn('bash', [script, command, '--dir', workDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const done = new Promise<string>((resolve, reject) => {
      let stdout = '';
      const stderr: string[] = [];
      // The script's own lines (what it did, and why it gave up) apart from the logs it shows:
      // they lead the message, whatever the logs' length.
      const said: string[] = [];
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (/^(compose|engine|images|check-images)\.sh:/.test(line)) said.push(line);
        stderr.push(line);
        if (stderr.length > 60) stderr.shift();
      });
      child.once('exit', (code, signal) =>
        code === 0
          ? resolve(stdout)
          : reject(
              new Error(
                `compose.sh ${command} failed (${code ?? signal}): ${said.slice(-8).join(' | ')}\nlast lines of its output:\n${stderr.join('\n')}`,
              ),
            ),
      );
    });
    return { child, done };
  };
  const stack: ComposeStack = {
    async start() {
      dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-compose-'));
      const { child, done } = run('up', dir);
      up = child;
      const out = await done.finally(() => {
        up = undefined;
      });
      started = true;
      const value = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)?.[1] ?? '';
      return {
        name: 'compose stack (docker-compose.yml)',
        url: value('URL'),
        adminToken: value('ADMIN_TOKEN'),
        stop: () => stack.stop(),
      };
    },
    async stop() {
      if (!dir) return;
      const workDir = dir;
      if (up?.pid !== undefined && up.exitCode === null) {
        const exited = new Promise((resolve) => up!.once('exit', resolve));
        try {
          // compose.sh alone: it lets a build under way finish, then its trap takes the stack down.
          process.kill(up.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await exited;
      } else if (started) {
        await run('down', workDir).done;
      }
      dir = undefined;
      started = false;
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return stack;
}
