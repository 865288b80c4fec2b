// given / when / then over the group decider.
import { GroupType } from '@gatehouse/contracts';
import { describe, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
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

const given = deciderSpec({
  decide: decideGroup,
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

  it('adds and removes members once each', () => {
    given([created]).when({ kind: 'AddGroupMember', id, userId: '00u1' }).thenEmits([added]);
    given([created, added]).when({ kind: 'AddGroupMember', id, userId: '00u1' }).thenEmits([]);
    given([created, added])
      .when({ kind: 'RemoveGroupMember', id, userId: '00u1' })
      .thenEmits([{ type: 'gatehouse.events.v1.GroupMemberRemoved', data: { userId: '00u1' } }]);
    given([created]).when({ kind: 'RemoveGroupMember', id, userId: '00u1' }).thenEmits([]);
  });

  it("refuses to change Everyone's membership, and commands on a missing group", () => {
    given([everyone])
      .when({ kind: 'AddGroupMember', id, userId: '00u1' })
      .thenRefuses('invalid_state');
    given([]).when({ kind: 'AddGroupMember', id, userId: '00u1' }).thenRefuses('not_found');
  });
});
