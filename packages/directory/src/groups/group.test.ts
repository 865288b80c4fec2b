// given / when / then over the group decider.
import { GroupType } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
import { evolveUserMembership, type UserState } from '../users/user.js';
import { decideGroup, evolveGroup, type GroupEvent, initialGroupState } from './group.js';

const id = '00gAAAAAAAAAAAAAAAAA';
const created: GroupEvent = {
  type: 'gatehouse.events.v1.GroupCreated',
  data: { name: 'Engineers', description: 'Builders', type: GroupType.GROUP_TYPE_OKTA_GROUP },
};
const everyone: GroupEvent = {
  type: 'gatehouse.events.v1.GroupCreated',
  data: { name: 'Everyone', description: '', type: GroupType.GROUP_TYPE_BUILT_IN },
};
const added: GroupEvent = {
  type: 'gatehouse.events.v1.GroupMemberAdded',
  data: { userId: '00u1' },
};
/** The member's state: memberships are decided on the group and on the user (its groups). */
const ada: UserState = {
  status: 'ACTIVE',
  profile: { login: 'ada@example.com', email: 'ada@example.com', firstName: 'A', lastName: 'L' },
  hasPassword: true,
  groups: [],
};
const adaInGroup = evolveUserMembership(ada, id, true);

const given = deciderSpec({
  decide: decideGroup,
  evolve: evolveGroup,
  initialState: initialGroupState,
});
const givenMember = (user: UserState) =>
  deciderSpec({
    decide: (
      command: Parameters<typeof decideGroup>[0],
      state: Parameters<typeof decideGroup>[1],
    ) => decideGroup(command, state, user),
    evolve: evolveGroup,
    initialState: initialGroupState,
  });

describe('group decider', () => {
  it('creates a group with a trimmed name; refuses empty names and the name Everyone', () => {
    given([])
      .when({ kind: 'CreateGroup', id, name: ' Engineers ', description: 'Builders' })
      .thenEmits([created]);
    given([]).when({ kind: 'CreateGroup', id, name: '  ', description: '' }).thenRefuses('invalid');
    given([])
      .when({ kind: 'CreateGroup', id, name: 'everyone', description: '' })
      .thenRefuses('invalid');
  });

  it('adds and removes members once each, by what the user says it is in', () => {
    givenMember(ada)([created])
      .when({ kind: 'AddGroupMember', id, userId: '00u1' })
      .thenEmits([added]);
    givenMember(adaInGroup)([created])
      .when({ kind: 'AddGroupMember', id, userId: '00u1' })
      .thenEmits([]);
    givenMember(adaInGroup)([created])
      .when({ kind: 'RemoveGroupMember', id, userId: '00u1' })
      .thenEmits([{ type: 'gatehouse.events.v1.GroupMemberRemoved', data: { userId: '00u1' } }]);
    givenMember(ada)([created])
      .when({ kind: 'RemoveGroupMember', id, userId: '00u1' })
      .thenEmits([]);
    expect(evolveUserMembership(adaInGroup, id, false)).toEqual(ada);
  });

  it("refuses to change Everyone's membership, and commands on a missing group or user", () => {
    givenMember(ada)([everyone])
      .when({ kind: 'AddGroupMember', id, userId: '00u1' })
      .thenRefuses('invalid_state');
    givenMember(ada)([])
      .when({ kind: 'AddGroupMember', id, userId: '00u1' })
      .thenRefuses('not_found');
    given([created]).when({ kind: 'AddGroupMember', id, userId: '00u1' }).thenRefuses('not_found');
  });
});

describe('replacing and deleting a group (Okta: PUT and DELETE /api/v1/groups/{id})', () => {
  it('given a group, when its profile is replaced, then GroupProfileUpdated names the name it frees', () => {
    given([created])
      .when({ kind: 'ReplaceGroupProfile', id, name: ' Engineering ', description: '' })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.GroupProfileUpdated',
          data: { name: 'Engineering', description: '', previousName: 'Engineers' },
        },
      ]);
  });

  it('given a group, when replaced by the same profile or a case change, then nothing or no name freed', () => {
    given([created])
      .when({ kind: 'ReplaceGroupProfile', id, name: 'Engineers', description: 'Builders' })
      .thenEmits([]);
    given([created])
      .when({ kind: 'ReplaceGroupProfile', id, name: 'engineers', description: 'Builders' })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.GroupProfileUpdated',
          data: { name: 'engineers', description: 'Builders', previousName: '' },
        },
      ]);
  });

  it('given Everyone, when it is replaced or deleted, then it is forbidden', () => {
    given([everyone])
      .when({ kind: 'ReplaceGroupProfile', id, name: 'All', description: '' })
      .thenRefuses('forbidden');
    given([everyone]).when({ kind: 'DeleteGroup', id, members: [] }).thenRefuses('forbidden');
  });

  it('given a group with a member, when it is deleted, then the membership ends before the group', () => {
    given([created, added])
      .when({ kind: 'DeleteGroup', id, members: ['00u1'] })
      .thenEmits([
        { type: 'gatehouse.events.v1.GroupMemberRemoved', data: { userId: '00u1' } },
        { type: 'gatehouse.events.v1.GroupDeleted', data: { name: 'Engineers' } },
      ]);
  });

  it('given a deleted group, when it is deleted or replaced again, then it is not found', () => {
    const deleted: GroupEvent = {
      type: 'gatehouse.events.v1.GroupDeleted',
      data: { name: 'Engineers' },
    };
    given([created, deleted])
      .when({ kind: 'DeleteGroup', id, members: [] })
      .thenRefuses('not_found');
    given([created, deleted])
      .when({ kind: 'ReplaceGroupProfile', id, name: 'X', description: '' })
      .thenRefuses('not_found');
  });
});
