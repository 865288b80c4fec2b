// The gRPC server and client histograms (rpc_server_duration_seconds, rpc_client_duration_seconds),
// by service, method and gRPC status code: a served service's unary handlers wrapped once, and an
// interceptor for the clients.
import { type GatehouseMetrics, processMetrics } from '@gatehouse/metrics';
import {
  InterceptingCall,
  type Interceptor,
  type ServiceDefinition,
  type ServiceError,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/** `/gatehouse.token.v1.TokenService/MintTokens` as its service and method. */
export function rpcNames(path: string): { rpc_service: string; rpc_method: string } {
  const [, service = 'unknown', method = 'unknown'] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  return { rpc_service: service, rpc_method: method };
}

type UnaryHandler = (
  call: unknown,
  callback: (error: Partial<ServiceError> | null, value?: unknown) => void,
) => void;

/**
 * The implementation with each unary handler timed from its call to its callback; the status code
 * is the error's (UNKNOWN when it names none) or OK. Streaming handlers are passed on as they are.
 */
export function timedImplementation<I extends object>(
  definition: ServiceDefinition,
  implementation: I,
  metrics: GatehouseMetrics = processMetrics(),
): I {
  const timed: Record<string, unknown> = { ...(implementation as Record<string, unknown>) };
  for (const [name, method] of Object.entries(definition)) {
    const handler = (implementation as Record<string, unknown>)[name];
    if (typeof handler !== 'function' || method.requestStream || method.responseStream) continue;
    const names = rpcNames(method.path);
    const unary = handler as UnaryHandler;
    timed[name] = ((call, callback) => {
      const start = performance.now();
      unary.call(implementation, call, (error, value) => {
        metrics.rpcServerDuration.observe(
          {
            rpc_system: 'grpc',
            ...names,
            rpc_grpc_status_code: error ? (error.code ?? status.UNKNOWN) : status.OK,
          },
          (performance.now() - start) / 1000,
        );
        callback(error, value);
      });
    }) satisfies UnaryHandler;
  }
  return timed as I & UntypedServiceImplementation;
}

/** A client interceptor timing each call from its start to its status. */
export function rpcClientMetrics(metrics: GatehouseMetrics = processMetrics()): Interceptor {
  return (options, nextCall) => {
    const names = rpcNames(options.method_definition.path);
    const start = performance.now();
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        // A plain Listener of the status alone: grpc-js passes the rest on to the caller's listener
        // (a copy of that listener would be taken for an intercepting one, called without `next`).
        next(metadata, {
          onReceiveStatus(received, nextStatus) {
            metrics.rpcClientDuration.observe(
              { rpc_system: 'grpc', ...names, rpc_grpc_status_code: received.code },
              (performance.now() - start) / 1000,
            );
            nextStatus(received);
          },
        });
      },
    });
  };
}
