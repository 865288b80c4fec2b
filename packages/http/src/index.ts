export { type EdgeLog, oktaErrors, readJsonObject, requestId } from './koa.js';
export {
  type ErrorCause,
  newErrorId,
  OAuthError,
  OktaApiError,
  oktaErrorBody,
} from './okta-errors.js';
export { requireTenantToken, resolveTenant, type TenantState } from './tenant-context.js';
