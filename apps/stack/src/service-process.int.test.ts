// A service as the stack runs it, one real process (its main.ts, through tsx): what start-up says
// when Kafka, Redis or its port is wrong, what /readyz says, and how SIGTERM ends it under load.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, steadyLoad, testKafka, testRedis } from '@gatehouse/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const adminToken = 'service-process-test-admin-token-0123456789';
/** The admin seals client secrets under it; a fixed one, as nothing sealed outlives the test. */
const kek = `kek-1:${Buffer.alloc(32, 1).toString('base64')}`;

interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  listening: Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) {
    if (service.child.exitCode === null && service.child.signalCode === null)
      service.child.kill('SIGKILL');
    await service.exited;
  }
});

function startAdmin(env: Record<string, string>): Running {
  return startService('admin', env);
}

function startService(name: string, env: Record<string, string>): Running {
  const child = spawn(
    process.execPath,
    ['--conditions=@gatehouse/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: `${repoRoot}services/${name}`,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GATEHOUSE_ADMIN_TOKEN: adminToken,
        GATEHOUSE_KEK: kek,
        GATEHOUSE_BIND_ADDRESS: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  let heard: () => void = () => {};
  const listening = new Promise<void>((resolve) => {
    heard = resolve;
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout.push(...chunk.split('\n').filter(Boolean));
    if (chunk.includes('"message":"listening"') || chunk.includes('"message":"consuming"')) heard();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(...chunk.split('\n').filter(Boolean));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const service = { child, stdout, stderr, exited, listening };
  running.push(service);
  return service;
}

function infrastructure() {
  return {
    GATEHOUSE_KAFKA_BROKERS: testKafka().brokers.join(','),
    // The test broker is a single one: topics of one copy (the services' default is 3).
    GATEHOUSE_KAFKA_REPLICATION_FACTOR: '1',
    GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '1',
    GATEHOUSE_REDIS_URL: testRedis().url,
  };
}

async function startedAdmin(extra: Record<string, string> = {}) {
  const port = await freePort();
  const service = startAdmin({
    ...infrastructure(),
    GATEHOUSE_ADMIN_PORT: String(port),
    ...extra,
  });
  await Promise.race([
    service.listening,
    service.exited.then(() => {
      throw new Error(`admin exited: ${service.stderr.join('\n')}`);
    }),
  ]);
  return { ...service, port };
}

describe('a service process at start', () => {
  it('ends within ~10 s with one line naming GATEHOUSE_KAFKA_BROKERS when Kafka is not there (exit 78)', async () => {
    const closed = await freePort();
    const started = performance.now();
    const service = startAdmin({
      ...infrastructure(),
      GATEHOUSE_KAFKA_BROKERS: `127.0.0.1:${closed}`,
      GATEHOUSE_ADMIN_PORT: String(await freePort()),
    });
    const { code, at } = await service.exited;
    expect(code).toBe(78);
    expect(at - started).toBeLessThan(12_000);
    expect(service.stderr).toHaveLength(1);
    expect(service.stderr[0]).toMatch(
      new RegExp(
        `^admin: cannot reach Kafka at 127\\.0\\.0\\.1:${closed} \\(GATEHOUSE_KAFKA_BROKERS\\)`,
      ),
    );
    expect(service.stderr[0]).toContain('ECONNREFUSED');
    expect(service.stdout.join('\n')).not.toContain('listening');
  });

  it('ends within ~10 s with one line naming GATEHOUSE_REDIS_URL when Redis is not there (exit 78)', async () => {
    const closed = await freePort();
    const started = performance.now();
    const service = startAdmin({
      ...infrastructure(),
      GATEHOUSE_REDIS_URL: `redis://127.0.0.1:${closed}`,
      GATEHOUSE_ADMIN_PORT: String(await freePort()),
    });
    const { code, at } = await service.exited;
    expect(code).toBe(78);
    expect(at - started).toBeLessThan(12_000);
    expect(service.stderr).toEqual([
      expect.stringMatching(
        new RegExp(
          `^admin: cannot reach Redis at redis://127\\.0\\.0\\.1:${closed}/? \\(GATEHOUSE_REDIS_URL\\) within 8000 ms: .*ECONNREFUSED`,
        ),
      ),
    ]);
    expect(service.stdout.join('\n')).not.toContain('listening');
  });

  it('refuses to start on fewer brokers than the replication factor asked for, naming the setting (exit 78)', async () => {
    // The services' default, 3 copies of each event, which the single test broker cannot keep.
    const service = startAdmin({
      ...infrastructure(),
      GATEHOUSE_KAFKA_REPLICATION_FACTOR: '3',
      GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '2',
      GATEHOUSE_ADMIN_PORT: String(await freePort()),
    });
    const { code } = await service.exited;
    expect(code).toBe(78);
    // Topics not created yet: the cluster is too small; created by an earlier test: too thin.
    expect(service.stderr.join('\n')).toMatch(
      /^admin: refusing to start: (the cluster has 1 broker\(s\) up|topic \S+ keeps 1 copy).*GATEHOUSE_KAFKA_REPLICATION_FACTOR/m,
    );
    expect(service.stdout.join('\n')).not.toContain('listening');
  });

  it('says which port and variable when its port is taken (exit 78)', async () => {
    const taken = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const service = startAdmin({ ...infrastructure(), GATEHOUSE_ADMIN_PORT: String(port) });
      const { code } = await service.exited;
      expect(code).toBe(78);
      expect(service.stderr).toEqual([
        `admin: port ${port} (GATEHOUSE_ADMIN_PORT) on 127.0.0.1 is already in use`,
      ]);
    } finally {
      taken.close();
    }
  });
});

describe('a running service process', () => {
  it('says on /readyz what it checked: started, Redis, Kafka, and the read models lag (not required)', async () => {
    const admin = await startedAdmin();
    const response = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
    const body = (await response.json()) as {
      status: string;
      checks: Record<string, { ok: boolean; required: boolean }>;
    };
    expect(body.checks).toMatchObject({
      started: { ok: true, required: true },
      redis: { ok: true, required: true, pingMs: expect.any(Number) },
      kafka: { ok: true, required: true, brokers: 1 },
      projections: { required: false },
    });
    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
    const health = await fetch(`http://127.0.0.1:${admin.port}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('ends on SIGTERM under steady keep-alive load within the grace period, with no request failed', async () => {
    const admin = await startedAdmin({ GATEHOUSE_SHUTDOWN_GRACE_MS: '10000' });
    const load = steadyLoad({
      port: admin.port,
      // /readyz asks Redis and Kafka; the tenants list reads Redis (503 when no projector has built
      // the read models in this Redis yet, which is an answer all the same).
      paths: ['/healthz', '/readyz', '/api/v1/tenants?limit=5'],
      headers: { Authorization: `SSWS ${adminToken}` },
      connections: 8,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = load.result.answered;
    expect(before).toBeGreaterThan(50);
    const signalled = performance.now();
    admin.child.kill('SIGTERM');
    const { code, at } = await admin.exited;
    const result = await load.stop();
    const shutdownMs = at - signalled;
    process.stdout.write(
      `shutdown under load: ${Math.round(shutdownMs)} ms; ${JSON.stringify(result)}\n`,
    );
    expect(code).toBe(0);
    expect(shutdownMs).toBeLessThan(10_000);
    expect(result.failed).toEqual([]);
    expect(result.answeredWithClose).toBeGreaterThan(0);
    // 503 only from /readyz once shutting down, or the tenants list (see above); nothing else.
    for (const status of Object.keys(result.statuses)) expect(['200', '503']).toContain(status);
  });

  it('gives the projector probes on GATEHOUSE_PROJECTOR_PORT, and ends it on SIGTERM', async () => {
    const port = await freePort();
    const projector = startService('projector', {
      ...infrastructure(),
      GATEHOUSE_PROJECTOR_PORT: String(port),
    });
    await Promise.race([
      projector.listening,
      projector.exited.then(() => {
        throw new Error(`projector exited: ${projector.stderr.join('\n')}`);
      }),
    ]);
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await response.json()) as {
      status: string;
      checks: Record<string, { ok: boolean; consumers?: number }>;
    };
    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.started!.ok).toBe(true);
    expect(body.checks.redis!.ok).toBe(true);
    expect(body.checks.kafka).toMatchObject({ ok: true });
    expect(body.checks.kafka!.consumers).toBeGreaterThan(0);
    // And its metrics on the same internal port.
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('gatehouse_projection_events_applied_total');
    expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    const signalled = performance.now();
    projector.child.kill('SIGTERM');
    const { code, at } = await projector.exited;
    expect(code).toBe(0);
    expect(at - signalled).toBeLessThan(10_000);
  });
});
