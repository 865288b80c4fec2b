// The generated contracts, re-exported under stable names. Run `pnpm generate` after editing proto/.
export {
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
