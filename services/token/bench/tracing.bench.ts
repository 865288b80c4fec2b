// `pnpm bench:tracing`: what traces cost the token endpoint, in CPU-ms per client_credentials token
// (its TokensIssued event appended to Kafka, read models in Redis), three variants in one run
// (tracing-server.ts): `baseline` (a build without traces: the SDK never started, the tracing
// middleware taken out), `off` (as deployed with no OTEL_* variables) and `on` (every request a
// sampled trace, exported to a no-op OTLP/HTTP receiver in this process). The three server
// processes share the servers' core (taskset; idle ones cost next to nothing) and are measured in
// turn, in 5 rounds with the order rotated, so each round's ratios compare windows seconds apart;
// the figures are the medians of the 5 rounds. The target: off within 3% of baseline.
// BENCH_TRACING_REQUESTS: measured requests per variant and round (default 4,000).
import { randomUUID } from 'node:crypto';
import { type OtlpReceiver, startOtlpReceiver } from '@gatehouse/tracing/testing';
import {
  basic,
  cpuPerRequest,
  fixed,
  LOAD_CPU,
  type Load,
  listening,
  type Measured,
  measure,
  median,
  perSecond,
  pinNote,
  printTable,
  runBench,
  SERVER_CPU,
  type Server,
  setUpGatehouse,
  start,
  warmUp,
} from './bench-kit.js';

const CONCURRENCY = 32;
const WARMUP_REQUESTS = 1_500;
const REQUESTS = Number(process.env.BENCH_TRACING_REQUESTS ?? 4_000);
const ROUNDS = 5;
const DEADLINE_MS = 8 * 60_000;
/** Tracing off: CPU per token within this factor of the baseline. */
const OFF_TARGET = 1.03;

const variants = ['baseline', 'off', 'on'] as const;
type Variant = (typeof variants)[number];
const tokenLoad: Load = {
  body: 'grant_type=client_credentials&scope=orders.read',
  concurrency: CONCURRENCY,
};
// Whatever the shell running the bench has set, only `on` traces.
const untraced = {
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_EXPORTER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
};

interface Row {
  variant: string;
  cpu: string;
  ratio: string;
  rate: string;
  p99: string;
  target: string;
}

await runBench('bench:tracing', DEADLINE_MS, async ({ infrastructure, watched, onCleanUp }) => {
  const gatehouse = await setUpGatehouse(infrastructure, `bench:${randomUUID()}:`);
  onCleanUp(gatehouse.close);
  const receiver: OtlpReceiver = await startOtlpReceiver({ keep: false });
  onCleanUp(() => receiver.close());
  watched.set('parent (projector, OTLP receiver)', process.pid);
  watched.delete('parent (projector)');

  const loader = start('load-generator.ts', { cpu: LOAD_CPU, ipc: true });
  watched.set('load generator', loader.pid!);
  const servers = new Map<Variant, Server>();
  for (const variant of variants) {
    const child = start('tracing-server.ts', {
      cpu: SERVER_CPU,
      env: {
        ...gatehouse.env,
        ...untraced,
        GATEHOUSE_TOKEN_PORT: '0',
        BENCH_TRACING: variant,
        ...(variant === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } : {}),
      },
      profile: true,
    });
    servers.set(variant, {
      name: variant,
      child,
      target: {
        port: await listening(child, variant),
        path: `/${gatehouse.tenant}/oauth2/default/v1/token`,
        authorization: basic(gatehouse.clientId, gatehouse.clientSecret),
      },
    });
  }
  for (const server of servers.values()) await warmUp(loader, [server], WARMUP_REQUESTS, tokenLoad);

  const runs = new Map<Variant, Measured[]>(variants.map((variant) => [variant, []]));
  const ratios = { off: [] as number[], on: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated, so that no variant is always measured first (or right after another).
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    const cpu = new Map<Variant, number>();
    for (const variant of order) {
      const run = await measure(loader, [servers.get(variant)!], watched, REQUESTS, tokenLoad);
      runs.get(variant)!.push(run);
      cpu.set(variant, cpuPerRequest(run));
    }
    ratios.off.push(cpu.get('off')! / cpu.get('baseline')!);
    ratios.on.push(cpu.get('on')! / cpu.get('baseline')!);
  }
  const exports = receiver.requests;
  if (exports === 0) throw new Error('tracing on exported nothing to the receiver');

  const medianOf = (variant: Variant, value: (run: Measured) => number) =>
    median(runs.get(variant)!.map(value));
  const p99 = (run: Measured) =>
    run.load.latenciesMs[Math.floor(run.load.latenciesMs.length * 0.99)]!;
  const offRatio = median(ratios.off);
  const rows: Row[] = variants.map((variant) => ({
    variant:
      variant === 'baseline'
        ? 'baseline (no tracing code on the path, SDK not loaded)'
        : variant === 'off'
          ? 'tracing off (no OTEL_* variables)'
          : 'tracing on (every request sampled, exported)',
    cpu: fixed(medianOf(variant, (run) => cpuPerRequest(run))),
    ratio: variant === 'baseline' ? '1.000' : fixed(median(ratios[variant])),
    rate: perSecond(
      1,
      medianOf(variant, (run) => run.load.ms / run.load.count),
    ),
    p99: `${fixed(medianOf(variant, p99), 1)} ms`,
    target:
      variant === 'off'
        ? `<= ${fixed(OFF_TARGET, 2)}: ${offRatio <= OFF_TARGET ? 'met' : 'NOT MET'}`
        : variant === 'on'
          ? 'printed'
          : '',
  }));
  console.log('');
  console.log(
    `bench:tracing: token endpoint, client_credentials, CPU per token of the server process (median of ${ROUNDS} rounds of ${REQUESTS.toLocaleString('en')} per variant)`,
  );
  console.log('');
  printTable<keyof Row>(
    [
      { key: 'variant', label: 'variant' },
      { key: 'cpu', label: 'CPU ms/token', align: 'right' },
      { key: 'ratio', label: 'vs baseline', align: 'right' },
      { key: 'rate', label: 'tokens/s', align: 'right' },
      { key: 'p99', label: 'p99', align: 'right' },
      { key: 'target', label: 'target' },
    ],
    rows,
  );
  console.log('');
  console.log(`- per round, off/baseline: ${ratios.off.map((r) => fixed(r)).join(', ')}`);
  console.log(`- per round, on/baseline: ${ratios.on.map((r) => fixed(r)).join(', ')}`);
  console.log(
    `- ${exports.toLocaleString('en')} OTLP export requests received from the traced process (BatchSpanProcessor: batches of up to 512 spans, every 5 s)`,
  );
  console.log(
    `- ${pinNote}; ${CONCURRENCY} requests in flight, ${WARMUP_REQUESTS.toLocaleString('en')} warmup requests per variant. CPU is the server process's utime + stime from /proc.`,
  );
});
