// The user aggregate as a decider, with Okta's lifecycle:
//   create: ACTIVE (activate=true, with a password), PROVISIONED (activate=true, no password), STAGED
//   activate: STAGED | DEPROVISIONED -> ACTIVE or PROVISIONED      suspend: ACTIVE -> SUSPENDED
//   deactivate: any -> DEPROVISIONED (again: no change)           unsuspend: SUSPENDED -> ACTIVE
//   delete: DEPROVISIONED -> gone; on any other status it deactivates first, as Okta's DELETE does.
import { type UserProfile, UserStatus } from '@gatehouse/contracts';
import { DomainError } from '../errors.js';
import type { DirectoryEvent } from '../events.js';

export type UserStatusName = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED';

export type UserState =
  | { status: 'NONE' }
  | {
      status: UserStatusName;
      profile: UserProfile;
      hasPassword: boolean;
      /** The groups the user is in (Everyone not listed): what leaves with the user. */
      groups: readonly string[];
    };

export const initialUserState: UserState = { status: 'NONE' };

export type UserCommand =
  | {
      kind: 'CreateUser';
      id: string;
      profile: UserProfile;
      passwordHash?: string;
      activate: boolean;
    }
  | { kind: 'UpdateUserProfile'; id: string; profile: UserProfile }
  | { kind: 'ActivateUser'; id: string }
  | { kind: 'DeactivateUser'; id: string }
  | { kind: 'SuspendUser'; id: string }
  | { kind: 'UnsuspendUser'; id: string }
  | { kind: 'DeleteUser'; id: string };

export type UserEvent = Exclude<
  Extract<DirectoryEvent, { type: `gatehouse.events.v1.User${string}` }>,
  { type: 'gatehouse.events.v1.UserSchemaUpdated' }
>;

export const statusNames: Record<UserStatus, UserStatusName | undefined> = {
  [UserStatus.USER_STATUS_UNSPECIFIED]: undefined,
  [UserStatus.USER_STATUS_STAGED]: 'STAGED',
  [UserStatus.USER_STATUS_PROVISIONED]: 'PROVISIONED',
  [UserStatus.USER_STATUS_ACTIVE]: 'ACTIVE',
  [UserStatus.USER_STATUS_SUSPENDED]: 'SUSPENDED',
  [UserStatus.USER_STATUS_DEPROVISIONED]: 'DEPROVISIONED',
  [UserStatus.UNRECOGNIZED]: undefined,
};

const notAllowed = (what: string) =>
  new DomainError(
    'invalid_state',
    `This operation is not allowed in the user's current status: ${what}`,
  );

export function decideUser(command: UserCommand, state: UserState): UserEvent[] {
  if (command.kind === 'CreateUser') {
    if (state.status !== 'NONE')
      throw DomainError.invalid([{ field: 'id', message: 'A user with this id already exists' }]);
    const status = !command.activate
      ? UserStatus.USER_STATUS_STAGED
      : command.passwordHash
        ? UserStatus.USER_STATUS_ACTIVE
        : UserStatus.USER_STATUS_PROVISIONED;
    return [
      {
        type: 'gatehouse.events.v1.UserCreated',
        data: { profile: command.profile, passwordHash: command.passwordHash ?? '', status },
      },
    ];
  }
  if (state.status === 'NONE')
    throw new DomainError('not_found', `Resource not found: ${command.id} (User)`);
  switch (command.kind) {
    case 'UpdateUserProfile': {
      if (JSON.stringify(sorted(command.profile)) === JSON.stringify(sorted(state.profile)))
        return [];
      const previousLogin =
        command.profile.login.toLowerCase() === state.profile.login.toLowerCase()
          ? ''
          : state.profile.login;
      return [
        {
          type: 'gatehouse.events.v1.UserProfileUpdated',
          data: { profile: command.profile, previousLogin },
        },
      ];
    }
    case 'ActivateUser':
      if (
        state.status === 'STAGED' ||
        state.status === 'DEPROVISIONED' ||
        (state.status === 'PROVISIONED' && state.hasPassword)
      ) {
        const status = state.hasPassword
          ? UserStatus.USER_STATUS_ACTIVE
          : UserStatus.USER_STATUS_PROVISIONED;
        return [{ type: 'gatehouse.events.v1.UserActivated', data: { status } }];
      }
      throw state.status === 'PROVISIONED'
        ? notAllowed('the user is provisioned and has no password yet')
        : notAllowed('activation failed because the user is already active');
    case 'DeactivateUser':
      return state.status === 'DEPROVISIONED'
        ? []
        : [{ type: 'gatehouse.events.v1.UserDeactivated', data: {} }];
    case 'SuspendUser':
      if (state.status !== 'ACTIVE') throw notAllowed('only an active user can be suspended');
      return [{ type: 'gatehouse.events.v1.UserSuspended', data: {} }];
    case 'UnsuspendUser':
      if (state.status !== 'SUSPENDED')
        throw notAllowed('only a suspended user can be unsuspended');
      return [{ type: 'gatehouse.events.v1.UserUnsuspended', data: {} }];
    case 'DeleteUser':
      return state.status === 'DEPROVISIONED'
        ? [{ type: 'gatehouse.events.v1.UserDeleted', data: { login: state.profile.login } }]
        : [{ type: 'gatehouse.events.v1.UserDeactivated', data: {} }];
  }
}

/** The user's side of a group membership: the groups it is in. */
export function evolveUserMembership(
  state: UserState,
  groupId: string,
  member: boolean,
): UserState {
  if (state.status === 'NONE') return state;
  const groups = state.groups.filter((id) => id !== groupId);
  return { ...state, groups: member ? [...groups, groupId] : groups };
}

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'gatehouse.events.v1.UserCreated':
      return {
        status: statusNames[event.data.status] ?? 'STAGED',
        profile: event.data.profile!,
        hasPassword: event.data.passwordHash !== '',
        groups: [],
      };
    case 'gatehouse.events.v1.UserDeleted':
      return { status: 'NONE' };
  }
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'gatehouse.events.v1.UserProfileUpdated':
      return { ...state, profile: event.data.profile! };
    case 'gatehouse.events.v1.UserPasswordChanged':
      return { ...state, hasPassword: true };
    case 'gatehouse.events.v1.UserActivated':
      return { ...state, status: statusNames[event.data.status] ?? 'ACTIVE' };
    case 'gatehouse.events.v1.UserDeactivated':
      return { ...state, status: 'DEPROVISIONED' };
    case 'gatehouse.events.v1.UserSuspended':
      return { ...state, status: 'SUSPENDED' };
    case 'gatehouse.events.v1.UserUnsuspended':
      return { ...state, status: 'ACTIVE' };
  }
}

function sorted(profile: UserProfile): [string, unknown][] {
  return Object.entries(profile)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}
