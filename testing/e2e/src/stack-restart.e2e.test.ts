// `pnpm stack` started again in the same folder, the way a developer does: after Ctrl-C, and after
// the first was killed with SIGKILL (its services, Kafka and Redis left to its reaper). The second
// one starts and has everything the first had: the tenant, its users, its clients, its signing keys
// (sealed with the KEK the folder keeps) and the tokens it issued.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '@gatehouse/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApp, connect, type E2eTenant, managementApi, newE2eTenant } from './suite.js';
import type { Target } from './targets.js';

interface RunningStack extends Target {
  child: ChildProcess;
  output: string[];
}

let dir: string;
let running: RunningStack | undefined;

/** How long one `pnpm stack` may take to start; a test starts it at most twice. */
const startMs = 150_000;

/** Runs `pnpm stack` in `dir` on free ports and waits for its banner. */
async function pnpmStack(): Promise<RunningStack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_STACK_DIR: dir,
    GATEHOUSE_STACK_PORTS: 'free',
  };
  // Its own Kafka and Redis, and the secrets the folder keeps; and the build test:e2e made (CI
  // forces turbo to run every task again, which would rebuild every package at each start).
  for (const name of [
    'GATEHOUSE_KAFKA_BROKERS',
    'GATEHOUSE_REDIS_URL',
    'GATEHOUSE_ADMIN_TOKEN',
    'GATEHOUSE_KEK',
    'TURBO_FORCE',
  ])
    delete env[name];
  const child = spawn('pnpm', ['stack'], {
    cwd: repoRoot,
    // Its own process group, as in a terminal: Ctrl-C and a kill reach pnpm, tsx and the stack.
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let url = '';
  let adminToken = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `pnpm stack exited (${signal ?? code}) before it was ready:\n${output.slice(-40).join('\n')}`,
        ),
      ),
    );
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        url ||= /Edge \(nginx\): (\S+)/.exec(line)?.[1] ?? '';
        adminToken ||= /Authorization: SSWS (\S+)/.exec(line)?.[1] ?? '';
        if (line.includes('Ctrl-C stops everything')) resolve();
      });
    setTimeout(
      () =>
        reject(
          new Error(`pnpm stack was not ready in ${startMs} ms:\n${output.slice(-40).join('\n')}`),
        ),
      startMs,
    ).unref();
  });
  await ready;
  return { name: 'pnpm stack', url, adminToken, child, output };
}

/** Sends `signal` to the stack's process group and waits for pnpm to exit. */
async function signalStack(stack: RunningStack, signal: NodeJS.Signals): Promise<void> {
  const { child } = stack;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, signal);
  await gone;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-restart-'));
});
afterAll(async () => {
  if (running) await signalStack(running, 'SIGINT');
  // A killed one's reaper stops its Kafka and Redis: let it finish before the folder goes.
  for (let i = 0; i < 120 && existsSync(join(dir, 'reaper.pid')); i++) await sleep(250);
  await rm(dir, { recursive: true, force: true });
});

describe('pnpm stack started again in the same folder', () => {
  const app = new ClientApp();
  beforeAll(() => app.start());
  afterAll(() => app.stop());

  let tenant: E2eTenant;
  let accessToken: string;

  /** The tenant, its user and its client as the first stack left them, and a new sign-in. */
  const expectFirstStacksState = async (target: Target) => {
    const api = managementApi(target);
    const path = new URL(tenant.org).pathname;
    const user = await api.call('GET', `${path}/api/v1/users/ada@example.com`, tenant.apiToken);
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ status: 'ACTIVE' });
    const client = await connect(tenant, app);
    // A token the first stack issued is still good (same keys, same grant).
    expect((await client.userinfoStatus(accessToken)).status).toBe(200);
    // And the tenant signs new ones with the keys it had.
    const tokens = await client.codeFlowTokens();
    expect((await client.userinfoStatus(tokens.access_token)).status).toBe(200);
  };

  it(
    'keeps the tenants after Ctrl-C',
    async () => {
      running = await pnpmStack();
      tenant = await newE2eTenant(running, app);
      const client = await connect(tenant, app);
      accessToken = (await client.codeFlowTokens()).access_token;
      const adminToken = running.adminToken;

      await signalStack(running, 'SIGINT');
      expect(running.output.join('\n')).toContain('stopping the stack');
      running = await pnpmStack();
      // The folder keeps the system API token (and the KEK that opens the tenant's keys).
      expect(running.adminToken).toBe(adminToken);
      await expectFirstStacksState(running);
    },
    2 * startMs + 60_000,
  );

  it(
    'keeps the tenants after the first one was killed with SIGKILL',
    async () => {
      expect(running, 'the stack from the test before').toBeDefined();
      await signalStack(running!, 'SIGKILL');
      running = undefined;
      // Started at once: the reaper of the killed one is still stopping its Kafka on this folder.
      running = await pnpmStack();
      await expectFirstStacksState(running);
    },
    startMs + 60_000,
  );
});
