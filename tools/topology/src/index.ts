export { dockerfile, nodeImage, pinnedPnpm } from './dockerfile.js';
export { loadOrCreateSecrets, type Secrets } from './local-secrets.js';
export { nginxRoutes, nginxUpstreams } from './nginx.js';
export { fallbackUpstream, type Route, routes, upstreamOf } from './routes.js';
export {
  edgePort,
  grpcTlsSettings,
  type ServiceName,
  type ServiceSpec,
  serviceSpec,
  services,
  type Upstream,
} from './services.js';
