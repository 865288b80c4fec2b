// Trace context over Kafka: a publish carries the active context in the messages' headers; the
// projector applies each event in a consumer span whose parent is that context, so the apply of an
// event belongs to the trace of the request that caused it.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracerOf, tracingOn } from './tracing.js';

/** The headers of a message published now (traceparent, tracestate); none when not tracing. */
export function traceHeaders(): Record<string, string> | undefined {
  if (!tracingOn()) return undefined;
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers.traceparent === undefined ? undefined : headers;
}

type ReceivedHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** The trace headers of a received message (kafkajs's headers); none when not tracing. */
export function receivedTraceHeaders(
  headers: ReceivedHeaders | undefined,
): Record<string, string> | undefined {
  if (!tracingOn() || headers === undefined) return undefined;
  const found: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) found[name] = value.toString();
  }
  return found.traceparent === undefined ? undefined : found;
}

/** What a traced event handler needs of an event (the event bus's DeliveredEvent). */
export interface TracedEvent {
  topic: string;
  envelope: { type: string; tenant: string };
  traceHeaders?: Readonly<Record<string, string>> | undefined;
}

/**
 * The handler, each event applied in a span `apply <event type>`, child of the publisher's context
 * when the event carries one (a new trace otherwise). Not tracing: the handler itself runs.
 */
export function traceApply<E extends TracedEvent>(
  component: string,
  handle: (event: E) => Promise<void>,
): (event: E) => Promise<void> {
  return async (event) => {
    if (!tracingOn()) return handle(event);
    const parent = event.traceHeaders
      ? propagation.extract(ROOT_CONTEXT, event.traceHeaders)
      : ROOT_CONTEXT;
    const span = tracerOf(component).startSpan(
      `apply ${event.envelope.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': event.topic,
          'gatehouse.event.type': event.envelope.type,
          'gatehouse.tenant': event.envelope.tenant,
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => handle(event));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'error' });
      throw error;
    } finally {
      span.end();
    }
  };
}
