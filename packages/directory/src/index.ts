export { DomainError, type DomainErrorKind, type FieldProblem } from './errors.js';
export {
  type DirectoryEvent,
  type DirectoryEventType,
  decodeDirectoryEvent,
  encodeDirectoryEvent,
} from './events.js';
export { directoryProjection, projectDirectoryEvent } from './projection.js';
export { keys, readModelPrefix } from './read-model.js';
export { orgBaseUrl, type TenancyConfig } from './tenancy.js';
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
