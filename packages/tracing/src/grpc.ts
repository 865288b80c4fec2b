// Trace context over gRPC: the client interceptor makes a client span and puts its traceparent in
// the call's metadata; the server side takes it back out and runs the handler in a server span.

import { InterceptingCall, type Interceptor, type Metadata, status } from '@grpc/grpc-js';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { tracerOf, tracingOn } from './tracing.js';

const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

const metadataGetter: TextMapGetter<Metadata> = {
  get: (metadata, key) => {
    const [value] = metadata.get(key);
    return typeof value === 'string' ? value : undefined;
  },
  keys: (metadata) => Object.keys(metadata.getMap()),
};

/** `/gatehouse.token.v1.TokenService/MintTokens` as a span name and its rpc.* attributes. */
function rpcOf(path: string) {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  return {
    name,
    attributes: {
      'rpc.system': 'grpc',
      'rpc.service': name.slice(0, slash),
      'rpc.method': name.slice(slash + 1),
    },
  };
}

/** The client interceptor of `component`'s gRPC clients. Not tracing: passes the call through. */
export function grpcClientTracing(component: string): Interceptor {
  return (options, nextCall) => {
    if (!tracingOn()) return new InterceptingCall(nextCall(options));
    const { name, attributes } = rpcOf(options.method_definition.path);
    const span = tracerOf(component).startSpan(name, { kind: SpanKind.CLIENT, attributes });
    const inSpan = trace.setSpan(context.active(), span);
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        propagation.inject(inSpan, metadata, metadataSetter);
        next(metadata, {
          onReceiveStatus(received, nextStatus) {
            span.setAttribute('rpc.grpc.status_code', received.code);
            if (received.code !== status.OK)
              span.setStatus({ code: SpanStatusCode.ERROR, message: status[received.code] });
            span.end();
            nextStatus(received);
          },
        });
      },
    });
  };
}

/**
 * Runs a unary handler in a server span whose parent is the caller's, from the metadata. A call
 * made in the same process (the all-in-one's local minter: no traceparent in its metadata) has the
 * caller's active span as parent; a network call's active context is the server's own, the root.
 */
export async function traceGrpcCall<T>(
  component: string,
  call: { getPath?(): string; metadata: Metadata },
  answer: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return answer();
  const parent = propagation.extract(context.active(), call.metadata, metadataGetter);
  const { name, attributes } = rpcOf(call.getPath?.() ?? 'unknown/unknown');
  const span = tracerOf(component).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), answer);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'error' });
    throw error;
  } finally {
    span.end();
  }
}
