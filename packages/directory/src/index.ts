export {
  checkClaim,
  checkPolicy,
  checkRule,
  defaultAccessPolicy,
  everyoneInRule,
  groupFilterTypes,
  reservedClaims,
  ruleGrantTypes,
} from './authorization-servers/access.js';
export {
  type CompiledGroupPattern,
  compileGroupPattern,
  maxGroupNameLength,
} from './authorization-servers/group-pattern.js';
export {
  projectServerEvent,
  type ServerView,
  serverViewOf,
} from './authorization-servers/projection.js';
export {
  checkScopeName,
  consentNames,
  consentOf,
  newServerSystemScopes,
  systemScope,
  systemScopes,
} from './authorization-servers/scopes.js';
export {
  checkServerSettings,
  decideServer,
  evolveServer,
  initialServerState,
  type ServerCommand,
  type ServerEvent,
  type ServerSettings,
  type ServerState,
} from './authorization-servers/server.js';
export {
  type ClientCommand,
  type ClientEvent,
  type ClientState,
  decideClient,
  evolveClient,
  initialClientState,
  storedClientState,
} from './clients/client.js';
export {
  assertionAlgorithms,
  clientAssertionAlgorithms,
  clientSecretAssertionAlgorithms,
  readJwkSet,
} from './clients/jwks.js';
export {
  applicationTypes,
  authMethods,
  checkJwksUri,
  checkRedirectUri,
  grantTypes,
  isPublicClient,
  loopbackHosts,
  readClientMetadata,
  responseTypes,
  storedClientMetadata,
  tokenExchangeGrantType,
  usesClientSecret,
} from './clients/metadata.js';
export { type ClientView, clientViewOf, projectClientEvent } from './clients/projection.js';
export {
  type CollectionQuery,
  listGroupMembers,
  listGroups,
  listUsers,
} from './collections/collections.js';
export {
  type Criteria,
  InvalidCriteriaError,
  parseCriteria,
  prefixCriteria,
} from './collections/criteria.js';
export {
  foldText,
  groupIndexDeletes,
  groupIndexWrites,
  userIndexDeletes,
  userIndexWrites,
} from './collections/indexes.js';
export {
  type Cursor,
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  type Page,
  plan,
  readPage,
} from './collections/pages.js';
export { DomainError, type DomainErrorKind, type FieldProblem } from './errors.js';
export {
  clientLifecycleEventTypes,
  type DirectoryEvent,
  type DirectoryEventType,
  decodeDirectoryEvent,
  encodeDirectoryEvent,
} from './events.js';
export {
  decideGroup,
  evolveGroup,
  type GroupCommand,
  type GroupEvent,
  type GroupState,
  initialGroupState,
} from './groups/group.js';
export { type GroupView, groupViewOf, projectGroupEvent } from './groups/projection.js';
export { idPattern, newId } from './ids.js';
export { directoryProjection, projectDirectoryEvent } from './projection.js';
export { keys, readModelPrefix } from './read-model.js';
export {
  endpointsBase,
  issuerOf,
  orgBaseUrl,
  readTenancyConfig,
  type TenancyConfig,
} from './tenancy.js';
export { decideNewTenant, defaultServerId } from './tenants/new-tenant.js';
export { projectTenantEvent, type TenantView, tenantViewOf } from './tenants/projection.js';
export {
  decideTenant,
  evolveTenant,
  initialTenantState,
  maxTenantNameLength,
  reservedTenantIds,
  type TenantCommand,
  type TenantEvent,
  type TenantState,
  tenantIdPattern,
} from './tenants/tenant.js';
export {
  checkPasswordPolicy,
  defaultScryptCost,
  hashPassword,
  passwordPolicySummary,
  readPasswordHash,
  type ScryptCost,
  scryptOptions,
  verifyPassword,
} from './users/password.js';
export {
  baseSchemaProperties,
  customValuesOf,
  loginKey,
  profileAttributes,
  profileForDisplay,
  readProfile,
} from './users/profile.js';
export {
  projectUserEvent,
  projectUserSchemaEvent,
  type UserSchemaView,
  type UserView,
  userSchemaViewOf,
  userViewOf,
} from './users/projection.js';
export {
  type CustomAttribute,
  type CustomSchema,
  customAttributeTypes,
  customValueProblem,
  decideUserSchema,
  evolveUserSchema,
  initialUserSchemaState,
  parseCustomSchema,
  readCustomSchemaUpdate,
  type UserSchemaCommand,
  type UserSchemaEvent,
  type UserSchemaState,
  userSchemaId,
} from './users/schema.js';
export {
  decideUser,
  evolveUser,
  evolveUserMembership,
  initialUserState,
  type UserCommand,
  type UserEvent,
  type UserState,
  type UserStatusName,
} from './users/user.js';
export {
  directoryChanges,
  directoryWriteModel,
  readStreams,
  readsDirectoryEvent,
  type StreamReads,
  type StreamType,
  streams,
} from './write-model.js';
