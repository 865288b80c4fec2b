// given / when / then over the user decider: Okta's lifecycle.
import { type UserProfile, UserStatus } from '@gatehouse/contracts';
import { describe, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
import { decideUser, evolveUser, initialUserState, type UserEvent } from './user.js';

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

const given = deciderSpec({
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUserState,
});

describe('user decider', () => {
  it('creates ACTIVE with a password, PROVISIONED without one, STAGED when not activated', () => {
    given([])
      .when({ kind: 'CreateUser', id, profile, passwordHash: '$scrypt$x', activate: true })
      .thenEmits([active]);
    given([])
      .when({ kind: 'CreateUser', id, profile, activate: true })
      .thenEmits([created(UserStatus.USER_STATUS_PROVISIONED, '')]);
    given([])
      .when({ kind: 'CreateUser', id, profile, passwordHash: '$scrypt$x', activate: false })
      .thenEmits([created(UserStatus.USER_STATUS_STAGED)]);
  });

  it('activates a staged or deactivated user; refuses an active one', () => {
    const activated: UserEvent = {
      type: 'gatehouse.events.v1.UserActivated',
      data: { status: UserStatus.USER_STATUS_ACTIVE },
    };
    given([created(UserStatus.USER_STATUS_STAGED)])
      .when({ kind: 'ActivateUser', id })
      .thenEmits([activated]);
    given([active, deactivated]).when({ kind: 'ActivateUser', id }).thenEmits([activated]);
    given([active]).when({ kind: 'ActivateUser', id }).thenRefuses('invalid_state');
    given([created(UserStatus.USER_STATUS_PROVISIONED, '')])
      .when({ kind: 'ActivateUser', id })
      .thenRefuses('invalid_state');
  });

  it('suspends only an active user and unsuspends only a suspended one', () => {
    given([active]).when({ kind: 'SuspendUser', id }).thenEmits([suspended]);
    given([active, suspended]).when({ kind: 'SuspendUser', id }).thenRefuses('invalid_state');
    given([active, suspended])
      .when({ kind: 'UnsuspendUser', id })
      .thenEmits([{ type: 'gatehouse.events.v1.UserUnsuspended', data: {} }]);
    given([active]).when({ kind: 'UnsuspendUser', id }).thenRefuses('invalid_state');
    given([active, deactivated]).when({ kind: 'SuspendUser', id }).thenRefuses('invalid_state');
  });

  it('deactivates from any status, once', () => {
    given([active]).when({ kind: 'DeactivateUser', id }).thenEmits([deactivated]);
    given([active, suspended]).when({ kind: 'DeactivateUser', id }).thenEmits([deactivated]);
    given([active, deactivated]).when({ kind: 'DeactivateUser', id }).thenEmits([]);
  });

  it('deletes only a deactivated user; DELETE on another status deactivates it, as Okta does', () => {
    given([active, deactivated])
      .when({ kind: 'DeleteUser', id })
      .thenEmits([{ type: 'gatehouse.events.v1.UserDeleted', data: { login: 'ada@example.com' } }]);
    given([active]).when({ kind: 'DeleteUser', id }).thenEmits([deactivated]);
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
      .thenEmits([]);
    given([active])
      .when({ kind: 'UpdateUserProfile', id, profile: { ...profile, nickName: 'Countess' } })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.UserProfileUpdated',
          data: { profile: { ...profile, nickName: 'Countess' }, previousLogin: '' },
        },
      ]);
    given([active])
      .when({ kind: 'UpdateUserProfile', id, profile: { ...profile, login: 'ada@lovelace.org' } })
      .thenEmits([
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
