// `pnpm traces`: an OTLP/HTTP receiver on 127.0.0.1:4318 (GATEHOUSE_TRACES_PORT) that prints each
// trace it receives as a tree of spans (service, name, duration), once the trace has been quiet for
// 2 s. For a look at a trace without a collector; point the services at it with
// OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (README "Traces").
import { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.js';

const port = Number(process.env.GATEHOUSE_TRACES_PORT ?? 4318);
const quietMs = 2_000;
const kinds = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
const traces = new Map<string, { spans: ReceivedSpan[]; timer: NodeJS.Timeout }>();

function print(spans: ReceivedSpan[]): void {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    // A parent outside what was received (the caller's own span) counts as the root.
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const byStart = (a: ReceivedSpan, b: ReceivedSpan) => (a.startNanos < b.startNanos ? -1 : 1);
  const start = [...spans].sort(byStart)[0]!.startNanos;
  const lines = [`trace ${spans[0]!.traceId} (${spans.length} spans)`];
  const walk = (parent: string, depth: number) => {
    const level = [...(children.get(parent) ?? [])].sort(byStart);
    for (const span of level) {
      const offset = Number(span.startNanos - start) / 1e6;
      const duration = Number(span.endNanos - span.startNanos) / 1e6;
      lines.push(
        `${'  '.repeat(depth + 1)}${span.service.padEnd(22 - depth * 2)} ${kinds[span.kind] ?? span.kind} ${span.name}  +${offset.toFixed(1)} ms, ${duration.toFixed(1)} ms`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

const receiver = await startOtlpReceiver({
  port,
  keep: true,
  onSpans: (spans) => {
    receiver.spans.length = 0; // kept per trace below, not for ever
    for (const span of spans) {
      const trace = traces.get(span.traceId) ?? { spans: [], timer: setTimeout(() => {}, 0) };
      clearTimeout(trace.timer);
      trace.spans.push(span);
      trace.timer = setTimeout(() => {
        traces.delete(span.traceId);
        print(trace.spans);
      }, quietMs);
      traces.set(span.traceId, trace);
    }
  },
});
process.stdout.write(
  `Receiving OTLP/HTTP (JSON) on ${receiver.endpoint}: OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.endpoint}\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void receiver.close().then(() => process.exit(0));
  });
