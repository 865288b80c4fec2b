export {
  type EdgeLog,
  logUnexpected,
  oktaErrors,
  probes,
  readJsonObject,
  requestId,
  sendJson,
} from './koa.js';
export { oauthErrors, readBodyText, readForm } from './oauth.js';
export {
  type ErrorCause,
  newErrorId,
  OAuthError,
  OktaApiError,
  oktaErrorBody,
} from './okta-errors.js';
export { requireTenantToken, resolveTenant, type TenantState } from './tenant-context.js';
