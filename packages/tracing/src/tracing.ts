// Whether this process traces, and the tracer of each component. The hooks in the services ask
// `tracingOn()` first: while it is false (the default) they do nothing else, so a process that does
// not trace pays one boolean read per request.
import { type Tracer, trace } from '@opentelemetry/api';
import type { TracingConfig } from './config.js';

let on = false;

/** Whether spans are being made and exported in this process. */
export function tracingOn(): boolean {
  return on;
}

/** The tracer of a component (`token`, `authorize`, `projector`...): its instrumentation scope. */
export function tracerOf(component: string): Tracer {
  return trace.getTracer(`gatehouse-${component}`);
}

export interface Tracing {
  readonly enabled: boolean;
  /** Sends the spans ended so far. */
  flush(): Promise<void>;
  /** Sends what is left and stops tracing (the last step of a shutdown). */
  shutdown(): Promise<void>;
}

const untraced: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

/**
 * Starts tracing as `config` says (readTracingConfig): off, nothing is loaded; on, the SDK is
 * imported and registered as the process's global tracer provider, context manager and W3C
 * propagator. One per process.
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  if (!config.enabled) return untraced;
  if (on) throw new Error('tracing is already started in this process');
  const { registerSdk } = await import('./sdk.js');
  const sdk = registerSdk(config);
  on = true;
  return {
    enabled: true,
    flush: () => sdk.flush(),
    shutdown: async () => {
      on = false;
      await sdk.shutdown();
    },
  };
}

/**
 * The trace id of the span active here (the request's server span, say), for log lines: undefined
 * while tracing is off or outside any span.
 */
export function activeTraceId(): string | undefined {
  if (!on) return undefined;
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  return traceId && !/^0+$/.test(traceId) ? traceId : undefined;
}
