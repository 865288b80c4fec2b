// The group aggregate as a decider. OKTA_GROUP groups are made through the API and hold members;
// the built-in Everyone holds every user of its tenant by definition, so its membership cannot be
// changed. A membership is decided on the group and on the user, whose state lists its groups: so
// concurrent changes for different users of one group never conflict, and a user being deleted
// cannot be added to a group on the way out.
import { GroupType } from '@gatehouse/contracts';
import { DomainError, type FieldProblem } from '../errors.js';
import type { DirectoryEvent } from '../events.js';
import type { UserState } from '../users/user.js';

export type GroupState =
  | { status: 'NONE' }
  | {
      status: 'EXISTS';
      type: 'OKTA_GROUP' | 'BUILT_IN';
      name: string;
      /** Absent in states written before groups could be replaced. */
      description?: string;
    };

export const initialGroupState: GroupState = { status: 'NONE' };

export type GroupCommand =
  | { kind: 'CreateGroup'; id: string; name: string; description: string }
  | { kind: 'ReplaceGroupProfile'; id: string; name: string; description: string }
  /** `members`: the group's members, whose memberships end with it. */
  | { kind: 'DeleteGroup'; id: string; members: readonly string[] }
  | { kind: 'AddGroupMember'; id: string; userId: string }
  | { kind: 'RemoveGroupMember'; id: string; userId: string };

export type GroupEvent = Extract<DirectoryEvent, { type: `gatehouse.events.v1.Group${string}` }>;

/** `user` is the member's state, for membership commands. */
export function decideGroup(
  command: GroupCommand,
  state: GroupState,
  user: UserState = { status: 'NONE' },
): GroupEvent[] {
  if (command.kind === 'CreateGroup') {
    const name = checkGroupProfile(command.name, command.description);
    if (state.status !== 'NONE')
      throw DomainError.invalid([{ field: 'id', message: 'A group with this id already exists' }]);
    return [
      {
        type: 'gatehouse.events.v1.GroupCreated',
        data: {
          name,
          description: command.description.trim(),
          type: GroupType.GROUP_TYPE_OKTA_GROUP,
        },
      },
    ];
  }
  if (state.status === 'NONE')
    throw new DomainError('not_found', `Resource not found: ${command.id} (UserGroup)`);
  if (command.kind === 'ReplaceGroupProfile' || command.kind === 'DeleteGroup')
    return decideGroupChange(command, state);
  if (state.type === 'BUILT_IN') {
    throw new DomainError(
      'invalid_state',
      'The membership of the built-in group Everyone follows the users of the organization and cannot be changed',
    );
  }
  if (user.status === 'NONE')
    throw new DomainError('not_found', `Resource not found: ${command.userId} (User)`);
  const member = user.groups.includes(command.id);
  switch (command.kind) {
    case 'AddGroupMember':
      return member
        ? []
        : [{ type: 'gatehouse.events.v1.GroupMemberAdded', data: { userId: command.userId } }];
    case 'RemoveGroupMember':
      return member
        ? [{ type: 'gatehouse.events.v1.GroupMemberRemoved', data: { userId: command.userId } }]
        : [];
  }
}

/** The name, trimmed, once name and description are valid for an OKTA_GROUP. */
function checkGroupProfile(rawName: string, description: string): string {
  const problems: FieldProblem[] = [];
  const name = rawName.trim();
  if (name.length === 0 || name.length > 255)
    problems.push({ field: 'profile.name', message: 'must be 1 to 255 characters' });
  if (description.length > 1024)
    problems.push({ field: 'profile.description', message: 'must be at most 1024 characters' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(rawName + description))
    problems.push({ field: 'profile', message: 'must not contain control characters' });
  if (name.toLowerCase() === 'everyone')
    problems.push({
      field: 'profile.name',
      message: 'An object with this field already exists in the current organization',
    });
  if (problems.length > 0) throw DomainError.invalid(problems);
  return name;
}

/** Okta: the built-in Everyone cannot be renamed or deleted (403 E0000006). */
function decideGroupChange(
  command: Extract<GroupCommand, { kind: 'ReplaceGroupProfile' | 'DeleteGroup' }>,
  state: Extract<GroupState, { status: 'EXISTS' }>,
): GroupEvent[] {
  if (state.type === 'BUILT_IN')
    throw new DomainError('forbidden', 'The built-in group Everyone cannot be changed or deleted');
  if (command.kind === 'ReplaceGroupProfile') {
    const name = checkGroupProfile(command.name, command.description);
    const description = command.description.trim();
    if (name === state.name && description === state.description) return [];
    return [
      {
        type: 'gatehouse.events.v1.GroupProfileUpdated',
        data: {
          name,
          description,
          previousName: name.toLowerCase() === state.name.toLowerCase() ? '' : state.name,
        },
      },
    ];
  }
  return [
    ...command.members.map(
      (userId): GroupEvent => ({
        type: 'gatehouse.events.v1.GroupMemberRemoved',
        data: { userId },
      }),
    ),
    { type: 'gatehouse.events.v1.GroupDeleted', data: { name: state.name } },
  ];
}

export function evolveGroup(state: GroupState, event: GroupEvent): GroupState {
  switch (event.type) {
    case 'gatehouse.events.v1.GroupCreated':
      return {
        status: 'EXISTS',
        type: event.data.type === GroupType.GROUP_TYPE_BUILT_IN ? 'BUILT_IN' : 'OKTA_GROUP',
        name: event.data.name,
        description: event.data.description,
      };
    case 'gatehouse.events.v1.GroupProfileUpdated':
      return state.status === 'EXISTS'
        ? { ...state, name: event.data.name, description: event.data.description }
        : state;
    case 'gatehouse.events.v1.GroupDeleted':
      return initialGroupState;
    case 'gatehouse.events.v1.GroupMemberAdded':
    case 'gatehouse.events.v1.GroupMemberRemoved':
      // Memberships live in the members' states (evolveUserMembership).
      return state;
  }
}
