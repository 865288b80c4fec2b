export { readTracingConfig, type SamplerSetting, type TracingConfig } from './config.js';
export { receivedTraceHeaders, type TracedEvent, traceApply, traceHeaders } from './events.js';
export { grpcClientTracing, traceGrpcCall } from './grpc.js';
export {
  type AnsweredRequest,
  routeTemplate,
  traceHttpRequest,
  traceKoaRequests,
} from './http.js';
export { activeTraceId, startTracing, type Tracing, tracerOf, tracingOn } from './tracing.js';
