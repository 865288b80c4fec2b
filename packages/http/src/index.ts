export {
  type DirectEdge,
  type DirectHandler,
  type DirectReply,
  type DirectRequest,
  DirectRoutesKoa,
  koaRoute,
} from './direct-routes.js';
export { httpServerMetrics, routeOf } from './http-metrics.js';
export {
  type CheckResult,
  type EdgeLog,
  type LoggedRequest,
  logUnexpected,
  methodNotAllowed,
  newRequestId,
  oktaErrors,
  probes,
  processEdgeLog,
  projectionLagCheck,
  type ReadinessCheck,
  type ReadinessChecks,
  readiness,
  readJsonObject,
  readRawBody,
  requestId,
} from './koa.js';
export {
  oauthCacheHeaders,
  oauthErrorReply,
  oauthErrors,
  readBodyText,
  readForm,
} from './oauth.js';
export {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InsufficientScope,
  InvalidClient,
  InvalidClientMetadata,
  InvalidDpopProof,
  InvalidGrant,
  InvalidRedirectUri,
  InvalidRequest,
  InvalidScope,
  InvalidTarget,
  InvalidToken,
  MethodNotAllowed,
  OAuthError,
  oauthErrorBody,
  ServerError,
  SlowDown,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedTokenType,
  UseDpopNonce,
} from './oauth-errors.js';
export {
  type ErrorCause,
  newErrorId,
  OktaApiError,
  oktaErrorBody,
} from './okta-errors.js';
export { requireTenantToken, resolveTenant, type TenantState } from './tenant-context.js';
export {
  type Budget,
  rateLimited,
  rateLimitHeaders,
  readTrustedProxies,
  sourceAddress,
  TrustedProxies,
} from './throttle.js';
