export {
  type AssertionAudience,
  assertedClientId,
  type ClientAssertionDeps,
  jwtBearerAssertionType,
  RemoteJwks,
  type RemoteJwksOptions,
  verifyClientAssertion,
} from './client-assertion.js';
export {
  type AuthenticatedClient,
  authenticateClient,
  type ClientAuthDeps,
  type ClientAuthEndpoint,
} from './client-auth.js';
export { ClientThrottle } from './client-throttle.js';
