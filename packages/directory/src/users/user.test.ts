// given / when / then over the user decider: Okta's lifecycle.
import { type UserProfile, UserStatus } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.js';
import {
  decideUser,
  evolveUser,
  initialUserState,
  type UserCommand,
  type UserEvent,
} from './user.js';

const profile: UserProfile = {
  login: 'ada@example.com',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
};
const id = '00uAAAAAAAAAAAAAAAAA';
const created = (status: UserStatus, passwordHash = '$scrypt$x'): UserEvent => ({
  type: 'gatehouse.events.v1.UserCreated',
  data: { profile, passwordHash, status },
});
const active = created(UserStatus.USER_STATUS_ACTIVE);
const deactivated: UserEvent = { type: 'gatehouse.events.v1.UserDeactivated', data: {} };
const suspended: UserEvent = { type: 'gatehouse.events.v1.UserSuspended', data: {} };

function given(events: UserEvent[]) {
  const state = events.reduce(evolveUser, initialUserState);
  return {
    when: (command: UserCommand) => ({
      then: (expected: UserEvent[]) => expect(decideUser(command, state)).toEqual(expected),
      thenRefuses: (kind: DomainError['kind']) => {
        expect(() => decideUser(command, state)).toThrow(DomainError);
        try {
          decideUser(command, state);
        } catch (error) {
          expect((error as DomainError).kind).toBe(kind);
        }
      },
    }),
  };
}

describe('user decider', () => {
  it('creates ACTIVE with a password, PROVISIONED without one, STAGED when not activated', () => {
    given([])
      .when({ kind: 'CreateUser', id, profile, passwordHash: '$scrypt$x', activate: true })
      .then([active]);
    given([])
      .when({ kind: 'CreateUser', id, profile, activate: true })
      .then([created(UserStatus.USER_STATUS_PROVISIONED, '')]);
    given([])
      .when({ kind: 'CreateUser', id, profile, passwordHash: '$scrypt$x', activate: false })
      .then([created(UserStatus.USER_STATUS_STAGED)]);
  });

  it('activates a staged or deactivated user; refuses an active one', () => {
    const activated: UserEvent = {
      type: 'gatehouse.events.v1.UserActivated',
      data: { status: UserStatus.USER_STATUS_ACTIVE },
    };
    given([created(UserStatus.USER_STATUS_STAGED)])
      .when({ kind: 'ActivateUser', id })
      .then([activated]);
    given([active, deactivated]).when({ kind: 'ActivateUser', id }).then([activated]);
    given([active]).when({ kind: 'ActivateUser', id }).thenRefuses('invalid_state');
    given([created(UserStatus.USER_STATUS_PROVISIONED, '')])
      .when({ kind: 'ActivateUser', id })
      .thenRefuses('invalid_state');
  });

  it('suspends only an active user and unsuspends only a suspended one', () => {
    given([active]).when({ kind: 'SuspendUser', id }).then([suspended]);
    given([active, suspended]).when({ kind: 'SuspendUser', id }).thenRefuses('invalid_state');
    given([active, suspended])
      .when({ kind: 'UnsuspendUser', id })
      .then([{ type: 'gatehouse.events.v1.UserUnsuspended', data: {} }]);
    given([active]).when({ kind: 'UnsuspendUser', id }).thenRefuses('invalid_state');
    given([active, deactivated]).when({ kind: 'SuspendUser', id }).thenRefuses('invalid_state');
  });

  it('deactivates from any status, once', () => {
    given([active]).when({ kind: 'DeactivateUser', id }).then([deactivated]);
    given([active, suspended]).when({ kind: 'DeactivateUser', id }).then([deactivated]);
    given([active, deactivated]).when({ kind: 'DeactivateUser', id }).then([]);
  });

  it('deletes only a deactivated user; DELETE on another status deactivates it, as Okta does', () => {
    given([active, deactivated])
      .when({ kind: 'DeleteUser', id })
      .then([{ type: 'gatehouse.events.v1.UserDeleted', data: { login: 'ada@example.com' } }]);
    given([active]).when({ kind: 'DeleteUser', id }).then([deactivated]);
    const deleted: UserEvent = {
      type: 'gatehouse.events.v1.UserDeleted',
      data: { login: 'ada@example.com' },
    };
    given([active, deactivated, deleted])
      .when({ kind: 'ActivateUser', id })
      .thenRefuses('not_found');
  });

  it('updates a profile only when it changed, and says which login it replaced', () => {
    given([active])
      .when({ kind: 'UpdateUserProfile', id, profile: { ...profile } })
      .then([]);
    given([active])
      .when({ kind: 'UpdateUserProfile', id, profile: { ...profile, nickName: 'Countess' } })
      .then([
        {
          type: 'gatehouse.events.v1.UserProfileUpdated',
          data: { profile: { ...profile, nickName: 'Countess' }, previousLogin: '' },
        },
      ]);
    given([active])
      .when({ kind: 'UpdateUserProfile', id, profile: { ...profile, login: 'ada@lovelace.org' } })
      .then([
        {
          type: 'gatehouse.events.v1.UserProfileUpdated',
          data: {
            profile: { ...profile, login: 'ada@lovelace.org' },
            previousLogin: 'ada@example.com',
          },
        },
      ]);
  });

  it('refuses commands on a user that does not exist', () => {
    for (const kind of [
      'ActivateUser',
      'DeactivateUser',
      'SuspendUser',
      'UnsuspendUser',
      'DeleteUser',
    ] as const) {
      given([]).when({ kind, id }).thenRefuses('not_found');
    }
  });
});
