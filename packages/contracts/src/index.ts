// The generated contracts, re-exported under stable names. Run `pnpm generate` after editing proto/.
export {
  ClientActivated,
  ClientDeactivated,
  ClientDeleted,
  ClientSecretRotated,
} from './gen/gatehouse/events/v1/client_lifecycle.js';
export {
  AppGroupAssigned,
  AppGroupUnassigned,
  AppUserAssigned,
  AppUserUnassigned,
  ClientMetadata,
  ClientRegistered,
  ClientUpdated,
  GroupCreated,
  GroupMemberAdded,
  GroupMemberRemoved,
  GroupType,
  TenantCreated,
  TenantDeactivated,
  UserActivated,
  UserCreated,
  UserDeactivated,
  UserDeleted,
  UserPasswordChanged,
  UserProfile,
  UserProfileUpdated,
  UserStatus,
  UserSuspended,
  UserUnsuspended,
} from './gen/gatehouse/events/v1/directory.js';
export { Envelope } from './gen/gatehouse/events/v1/envelope.js';
