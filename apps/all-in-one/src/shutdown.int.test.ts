// `pnpm start`'s process under steady keep-alive load: SIGTERM ends it within the grace period and
// no request sent to it goes unanswered.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, steadyLoad } from '@gatehouse/testkit';
import { expect, it } from 'vitest';

const appDir = fileURLToPath(new URL('..', import.meta.url));

it('ends on SIGTERM under steady keep-alive load within the grace period, with no request failed', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-shutdown-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--conditions=@gatehouse/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: appDir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GATEHOUSE_PORT: String(port),
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_DEMO: 'false',
        GATEHOUSE_KEY_POOL_SIZE: '1',
        GATEHOUSE_SHUTDOWN_GRACE_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const listening = new Promise<void>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('"message":"listening"')) resolve();
    });
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: performance.now() })),
  );
  try {
    await Promise.race([
      listening,
      exited.then(() => {
        throw new Error(`all-in-one exited: ${output}`);
      }),
    ]);
    const load = steadyLoad({
      port,
      paths: ['/healthz', '/readyz', '/.well-known/openid-configuration'],
      connections: 8,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(load.result.answered).toBeGreaterThan(50);
    const signalled = performance.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    const result = await load.stop();
    const shutdownMs = at - signalled;
    process.stdout.write(
      `all-in-one shutdown under load: ${Math.round(shutdownMs)} ms; ${JSON.stringify(result)}\n`,
    );
    expect(code, output).toBe(0);
    expect(shutdownMs).toBeLessThan(10_000);
    expect(result.failed).toEqual([]);
    expect(result.answeredWithClose).toBeGreaterThan(0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
