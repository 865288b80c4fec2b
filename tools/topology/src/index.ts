export { dockerfile, nodeImage, pinnedPnpm } from './dockerfile.js';
export { loadOrCreateSecrets, type Secrets } from './local-secrets.js';
export { nginxLogFormat, nginxRoutes, nginxUpstreams, upstreamFailover } from './nginx.js';
export {
  type ErrorShape,
  fallbackUpstream,
  internalPaths,
  type Route,
  routes,
  upstreamOf,
} from './routes.js';
export {
  edgePort,
  grpcTlsSettings,
  replicaCount,
  replicasVariable,
  type ServiceName,
  type ServiceSpec,
  serviceSpec,
  services,
  type Upstream,
} from './services.js';
