// Grants: what the token and authorize services decide and keep about the tokens they issue.

export {
  type AccessTokenClaimsInput,
  accessTokenClaims,
  type SubjectTokenLink,
  subjectTokenClaim,
} from './claims/access-token.js';
export { ClaimsError, type ClaimsErrorCode } from './claims/claims-error.js';
export { groupsClaimLimit } from './claims/group-filter.js';
export {
  type IdTokenClaimsInput,
  idTokenClaims,
  idTokenLifetimeSeconds,
  userinfoClaims,
} from './claims/id-token.js';
export { compactStandardClaims, standardClaims } from './claims/standard-claims.js';
export type { TokenSubject, TokenUser } from './claims/subject.js';
export { deviceSecretHash, tokenHash } from './claims/token-hash.js';
export {
  type DeviceApproval,
  type DeviceAuthorization,
  type DevicePoll,
  deviceCodeGrantType,
  deviceCodeLifetimeSeconds,
  devicePollIntervalSeconds,
  deviceRecordRetentionMs,
  displayUserCode,
  newDeviceCode,
  newUserCode,
  normalizeUserCode,
  slowDownStepSeconds,
  userCodeAlphabet,
  userCodeLength,
} from './device-authorization.js';
export {
  decodeGrantEvent,
  encodeGrantEvent,
  type GrantEvent,
  topicOfGrantEvent,
} from './events.js';
export {
  bindingDigestOfTokenId,
  type CodeRecord,
  codeReplayWindowMs,
  type DeviceSecretRecord,
  grantIdOfTokenId,
  grantKeys,
  newGrantId,
  newTokenId,
  type RedeemedCode,
  type RefreshRecord,
  sha256Hex,
} from './flow-state.js';
export {
  bindingKeys,
  generationReads,
  invalidatedBy,
  invalidationDigest,
  invalidationKeys,
  invalidationProjection,
  projectInvalidation,
  type TokenBinding,
} from './invalidation.js';
export { evaluateAccessPolicy } from './policy/access-policy.js';
export type {
  PolicyDecision,
  PolicyDenial,
  PolicyGrant,
  PolicyGrantType,
  PolicyInput,
} from './policy/decision.js';
export { scopesNotConfigured } from './policy/decision.js';
export { openIdConnectScopes } from './policy/openid-scopes.js';
export { orgServerDecision, orgServerLifetimes, orgServerScopes } from './policy/org-server.js';
export {
  deviceSecretWrites,
  grantsProjection,
  projectGrantEvent,
  refreshRecordOf,
  refreshWrites,
  revocationWrite,
} from './projection.js';
