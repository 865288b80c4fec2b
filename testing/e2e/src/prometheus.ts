// Debian's prometheus, scraping every service of a running stack: on 127.0.0.1 only, on a free port,
// its data in a temporary folder, stopped by its PID. The end-to-end suite asks it, through its HTTP
// API, whether the services' series moved under the suite's traffic.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@gatehouse/stack';

export interface Prometheus {
  url: string;
  /** An instant query's vector: each sample's labels and value. */
  query(expression: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Waits until every target has been scraped and is up. */
  untilScraped(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The scrape config of `targets` (service name -> host:port), one job per service, every second. */
export function scrapeConfig(targets: Record<string, string>): string {
  const jobs = Object.entries(targets).map(
    ([service, address]) =>
      `  - job_name: ${JSON.stringify(service)}\n` +
      '    metrics_path: /metrics\n' +
      `    static_configs:\n      - targets: [${JSON.stringify(address)}]\n` +
      `        labels: { service: ${JSON.stringify(service)} }\n`,
  );
  return `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs.join('')}`;
}

export function prometheusBinary(): string {
  const found = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((path) =>
    existsSync(path),
  );
  if (!found)
    throw new Error(
      "Debian's prometheus is not installed: apt-get install prometheus (.ci/run installs it)",
    );
  return found;
}

export async function startPrometheus(targets: Record<string, string>): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, scrapeConfig(targets));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const child: ChildProcess = spawn(
    prometheusBinary(),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start:\n${output.join('')}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 30 s:\n${output.join('')}`);
    }
    await sleep(200);
  }

  const query: Prometheus['query'] = async (expression) => {
    const response = await fetch(
      `${url}/api/v1/query?${new URLSearchParams({ query: expression })}`,
    );
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector')
      throw new Error(`query ${expression} failed: ${body.error ?? JSON.stringify(body)}`);
    return body.data.result.map((sample) => ({
      metric: sample.metric,
      value: Number(sample.value[1]),
    }));
  };

  return {
    url,
    query,
    async untilScraped(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      const expected = Object.keys(targets).length;
      for (;;) {
        const up = await query('up == 1').catch(() => []);
        if (up.length === expected) return;
        if (Date.now() > until)
          throw new Error(
            `only ${up.map((s) => s.metric.service).join(', ') || 'no target'} of ${expected} scraped and up`,
          );
        await sleep(250);
      }
    },
    stop,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
