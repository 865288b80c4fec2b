// Directory events as typed records, and their protobuf encoding. `type` is the fully qualified
// protobuf name; a reader meets unknown types (newer producers) and skips them.
import {
  AppGroupAssigned,
  AppGroupUnassigned,
  AppUserAssigned,
  AppUserUnassigned,
  AuthorizationServerActivated,
  AuthorizationServerCreated,
  AuthorizationServerDeactivated,
  AuthorizationServerDeleted,
  AuthorizationServerUpdated,
  ClaimCreated,
  ClaimDeleted,
  ClaimUpdated,
  ClientActivated,
  ClientDeactivated,
  ClientDeleted,
  ClientRegistered,
  ClientSecretRotated,
  ClientUpdated,
  type Envelope,
  GroupCreated,
  GroupDeleted,
  GroupMemberAdded,
  GroupMemberRemoved,
  GroupProfileUpdated,
  PolicyCreated,
  PolicyDeleted,
  PolicyUpdated,
  RuleCreated,
  RuleDeleted,
  RuleUpdated,
  ScopeCreated,
  ScopeDeleted,
  ScopeUpdated,
  TenantCreated,
  TenantDeactivated,
  UserActivated,
  UserCreated,
  UserDeactivated,
  UserDeleted,
  UserPasswordChanged,
  UserProfileUpdated,
  UserSchemaUpdated,
  UserSuspended,
  UserUnsuspended,
} from '@gatehouse/contracts';
import { type EventsOf, eventCodecs, type MessageCodec } from '@gatehouse/events';

const codecs = {
  'gatehouse.events.v1.TenantCreated': TenantCreated as MessageCodec<TenantCreated>,
  'gatehouse.events.v1.TenantDeactivated': TenantDeactivated as MessageCodec<TenantDeactivated>,
  'gatehouse.events.v1.UserCreated': UserCreated as MessageCodec<UserCreated>,
  'gatehouse.events.v1.UserProfileUpdated': UserProfileUpdated as MessageCodec<UserProfileUpdated>,
  'gatehouse.events.v1.UserPasswordChanged':
    UserPasswordChanged as MessageCodec<UserPasswordChanged>,
  'gatehouse.events.v1.UserActivated': UserActivated as MessageCodec<UserActivated>,
  'gatehouse.events.v1.UserDeactivated': UserDeactivated as MessageCodec<UserDeactivated>,
  'gatehouse.events.v1.UserSuspended': UserSuspended as MessageCodec<UserSuspended>,
  'gatehouse.events.v1.UserUnsuspended': UserUnsuspended as MessageCodec<UserUnsuspended>,
  'gatehouse.events.v1.UserDeleted': UserDeleted as MessageCodec<UserDeleted>,
  'gatehouse.events.v1.UserSchemaUpdated': UserSchemaUpdated as MessageCodec<UserSchemaUpdated>,
  'gatehouse.events.v1.GroupCreated': GroupCreated as MessageCodec<GroupCreated>,
  'gatehouse.events.v1.GroupMemberAdded': GroupMemberAdded as MessageCodec<GroupMemberAdded>,
  'gatehouse.events.v1.GroupMemberRemoved': GroupMemberRemoved as MessageCodec<GroupMemberRemoved>,
  'gatehouse.events.v1.GroupProfileUpdated':
    GroupProfileUpdated as MessageCodec<GroupProfileUpdated>,
  'gatehouse.events.v1.GroupDeleted': GroupDeleted as MessageCodec<GroupDeleted>,
  'gatehouse.events.v1.ClientRegistered': ClientRegistered as MessageCodec<ClientRegistered>,
  'gatehouse.events.v1.ClientUpdated': ClientUpdated as MessageCodec<ClientUpdated>,
  'gatehouse.events.v1.AppUserAssigned': AppUserAssigned as MessageCodec<AppUserAssigned>,
  'gatehouse.events.v1.AppUserUnassigned': AppUserUnassigned as MessageCodec<AppUserUnassigned>,
  'gatehouse.events.v1.AppGroupAssigned': AppGroupAssigned as MessageCodec<AppGroupAssigned>,
  'gatehouse.events.v1.AppGroupUnassigned': AppGroupUnassigned as MessageCodec<AppGroupUnassigned>,
  'gatehouse.events.v1.AuthorizationServerCreated':
    AuthorizationServerCreated as MessageCodec<AuthorizationServerCreated>,
  'gatehouse.events.v1.AuthorizationServerUpdated':
    AuthorizationServerUpdated as MessageCodec<AuthorizationServerUpdated>,
  'gatehouse.events.v1.AuthorizationServerActivated':
    AuthorizationServerActivated as MessageCodec<AuthorizationServerActivated>,
  'gatehouse.events.v1.AuthorizationServerDeactivated':
    AuthorizationServerDeactivated as MessageCodec<AuthorizationServerDeactivated>,
  'gatehouse.events.v1.AuthorizationServerDeleted':
    AuthorizationServerDeleted as MessageCodec<AuthorizationServerDeleted>,
  'gatehouse.events.v1.ScopeCreated': ScopeCreated as MessageCodec<ScopeCreated>,
  'gatehouse.events.v1.ScopeUpdated': ScopeUpdated as MessageCodec<ScopeUpdated>,
  'gatehouse.events.v1.ScopeDeleted': ScopeDeleted as MessageCodec<ScopeDeleted>,
  'gatehouse.events.v1.ClaimCreated': ClaimCreated as MessageCodec<ClaimCreated>,
  'gatehouse.events.v1.ClaimUpdated': ClaimUpdated as MessageCodec<ClaimUpdated>,
  'gatehouse.events.v1.ClaimDeleted': ClaimDeleted as MessageCodec<ClaimDeleted>,
  'gatehouse.events.v1.PolicyCreated': PolicyCreated as MessageCodec<PolicyCreated>,
  'gatehouse.events.v1.PolicyUpdated': PolicyUpdated as MessageCodec<PolicyUpdated>,
  'gatehouse.events.v1.PolicyDeleted': PolicyDeleted as MessageCodec<PolicyDeleted>,
  'gatehouse.events.v1.RuleCreated': RuleCreated as MessageCodec<RuleCreated>,
  'gatehouse.events.v1.RuleUpdated': RuleUpdated as MessageCodec<RuleUpdated>,
  'gatehouse.events.v1.RuleDeleted': RuleDeleted as MessageCodec<RuleDeleted>,
  // client lifecycle (copied to gatehouse.client-lifecycle once admitted)
  'gatehouse.events.v1.ClientActivated': ClientActivated as MessageCodec<ClientActivated>,
  'gatehouse.events.v1.ClientDeactivated': ClientDeactivated as MessageCodec<ClientDeactivated>,
  'gatehouse.events.v1.ClientDeleted': ClientDeleted as MessageCodec<ClientDeleted>,
  'gatehouse.events.v1.ClientSecretRotated':
    ClientSecretRotated as MessageCodec<ClientSecretRotated>,
} as const;

/**
 * The client lifecycle events: on gatehouse.directory like every client event, and copied by the
 * projector to gatehouse.client-lifecycle once admitted (SPEC section 7).
 */
export const clientLifecycleEventTypes: ReadonlySet<DirectoryEventType> = new Set([
  'gatehouse.events.v1.ClientActivated',
  'gatehouse.events.v1.ClientDeactivated',
  'gatehouse.events.v1.ClientDeleted',
  'gatehouse.events.v1.ClientSecretRotated',
]);

/** A directory event: its type and its data, before it is put in an envelope. */
export type DirectoryEvent = EventsOf<typeof codecs>;
export type DirectoryEventType = DirectoryEvent['type'];

const directoryEvents = eventCodecs(codecs);

export const encodeDirectoryEvent: (event: DirectoryEvent) => Uint8Array = directoryEvents.encode;

/** The directory event an envelope carries, or undefined when its type is not a directory event. */
export const decodeDirectoryEvent: (envelope: Envelope) => DirectoryEvent | undefined =
  directoryEvents.decode;
