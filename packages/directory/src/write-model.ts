// The directory's write model (SPEC section 1): the streams commands decide on, and how each directory
// event changes them, with the deciders' own evolve functions. A stream is an aggregate (a tenant, a
// user, a group, a client, an authorization server with its scopes, claims, policies and rules), a
// unique name (a login, a group name), or an app assignment, so that commands on different things
// never conflict and two commands that need the same name do. The projector keeps every stream's
// state in log order and admits a command only on the versions it decided on (@gatehouse/projections).
import type { Envelope } from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';
import {
  evolveServer,
  initialServerState,
  type ServerEvent,
  type ServerState,
} from './authorization-servers/server.js';
import {
  type ClientEvent,
  type ClientState,
  evolveClient,
  initialClientState,
  storedClientState,
} from './clients/client.js';
import { decodeDirectoryEvent } from './events.js';
import {
  evolveGroup,
  type GroupEvent,
  type GroupState,
  initialGroupState,
} from './groups/group.js';
import { evolveTenant, initialTenantState, type TenantState } from './tenants/tenant.js';
import { loginKey } from './users/profile.js';
import {
  evolveUserSchema,
  initialUserSchemaState,
  type UserSchemaState,
  userSchemaId,
} from './users/schema.js';
import {
  evolveUser,
  evolveUserMembership,
  initialUserState,
  type UserEvent,
  type UserState,
} from './users/user.js';

/** One stream's name, and its state's initial value and JSON form. */
export interface StreamType<S> {
  name: string;
  initial: S;
  toJson(state: S): unknown;
  fromJson(json: unknown): S;
}

const plain = <S>(name: string, initial: S): StreamType<S> => ({
  name,
  initial,
  toJson: (state) => state,
  fromJson: (json) => (json === undefined || json === null ? initial : (json as S)),
});

type ServerJson =
  | { status: 'NONE' }
  | (Omit<
      Extract<ServerState, { status: 'ACTIVE' | 'INACTIVE' }>,
      'scopes' | 'claims' | 'policies' | 'rules'
    > & {
      scopes: [string, unknown][];
      claims: [string, unknown][];
      policies: [string, unknown][];
      rules: [string, unknown][];
    });

/** The streams of one tenant's directory, by what they hold. */
export const streams = {
  tenant: (id: string) => plain<TenantState>(`tenant/${id}`, initialTenantState),
  user: (id: string) => plain<UserState>(`user/${id}`, initialUserState),
  /** The tenant's user profile schema: its custom attributes. */
  userSchema: () => plain<UserSchemaState>(`user-schema/${userSchemaId}`, initialUserSchemaState),
  /** The user id that holds a login (compared without case), or null. */
  login: (login: string) => plain<string | null>(`login/${loginKey(login)}`, null),
  group: (id: string) => plain<GroupState>(`group/${id}`, initialGroupState),
  /** The group id that holds a group name (trimmed, without case), or null. */
  groupName: (name: string) =>
    plain<string | null>(`group-name/${name.trim().toLowerCase()}`, null),
  client: (id: string): StreamType<ClientState> => ({
    name: `client/${id}`,
    initial: initialClientState,
    toJson: (state) => state,
    fromJson: storedClientState,
  }),
  /** Whether a user is assigned to an app directly. */
  appUser: (clientId: string, userId: string) =>
    plain<boolean>(`app-user/${clientId}/${userId}`, false),
  /** Whether a group is assigned to an app. */
  appGroup: (clientId: string, groupId: string) =>
    plain<boolean>(`app-group/${clientId}/${groupId}`, false),
  server: (id: string): StreamType<ServerState> => ({
    name: `server/${id}`,
    initial: initialServerState,
    toJson: (state): ServerJson =>
      state.status === 'NONE'
        ? state
        : {
            ...state,
            scopes: [...state.scopes],
            claims: [...state.claims],
            policies: [...state.policies],
            rules: [...state.rules],
          },
    fromJson: (json) => {
      const state = json as ServerJson | undefined;
      if (!state || state.status === 'NONE') return initialServerState;
      return {
        ...state,
        scopes: new Map(state.scopes),
        claims: new Map(state.claims),
        policies: new Map(state.policies),
        rules: new Map(state.rules),
      } as ServerState;
    },
  }),
};

/** What a command reads streams through (the command handler's CommandReads). */
export interface StreamReads {
  states(streams: readonly string[]): Promise<unknown[]>;
}

/** Reads several streams in one round trip, each as its type. */
export async function readStreams<const T extends readonly StreamType<unknown>[]>(
  reads: StreamReads,
  types: T,
): Promise<{ -readonly [I in keyof T]: T[I] extends StreamType<infer S> ? S : never }> {
  const states = await reads.states(types.map((type) => type.name));
  return types.map((type, i) => type.fromJson(states[i])) as never;
}

interface Change {
  stream: string;
  evolve(state: unknown): unknown;
}

const change = <S>(type: StreamType<S>, evolve: (state: S) => S): Change => ({
  stream: type.name,
  evolve: (json) => type.toJson(evolve(type.fromJson(json))),
});

/** The streams a directory event changes, and how. */
export function directoryChanges(envelope: Envelope): Change[] {
  const event = decodeDirectoryEvent(envelope);
  if (!event) return [];
  const id = envelope.aggregateId;
  switch (event.type) {
    case 'gatehouse.events.v1.TenantCreated':
      return [
        change(streams.tenant(id), (state) => evolveTenant(state, event)),
        // The built-in Everyone comes with its tenant.
        ...(event.data.everyoneGroupId
          ? [
              change(streams.group(event.data.everyoneGroupId), () => ({
                status: 'EXISTS' as const,
                type: 'BUILT_IN' as const,
                name: 'Everyone',
              })),
            ]
          : []),
      ];
    case 'gatehouse.events.v1.TenantDeactivated':
      return [change(streams.tenant(id), (state) => evolveTenant(state, event))];
    case 'gatehouse.events.v1.UserCreated':
      return [
        change(streams.user(id), (state) => evolveUser(state, event)),
        change(streams.login(event.data.profile!.login), () => id),
      ];
    case 'gatehouse.events.v1.UserProfileUpdated':
      return [
        change(streams.user(id), (state) => evolveUser(state, event as UserEvent)),
        ...(event.data.previousLogin
          ? [
              change(streams.login(event.data.previousLogin), () => null),
              change(streams.login(event.data.profile!.login), () => id),
            ]
          : []),
      ];
    case 'gatehouse.events.v1.UserDeleted':
      return [
        change(streams.user(id), (state) => evolveUser(state, event)),
        change(streams.login(event.data.login), () => null),
      ];
    case 'gatehouse.events.v1.UserSchemaUpdated':
      return [change(streams.userSchema(), (state) => evolveUserSchema(state, event))];
    case 'gatehouse.events.v1.UserPasswordChanged':
    case 'gatehouse.events.v1.UserActivated':
    case 'gatehouse.events.v1.UserDeactivated':
    case 'gatehouse.events.v1.UserSuspended':
    case 'gatehouse.events.v1.UserUnsuspended':
      return [change(streams.user(id), (state) => evolveUser(state, event as UserEvent))];
    case 'gatehouse.events.v1.GroupCreated':
      return [
        change(streams.group(id), (state) => evolveGroup(state, event as GroupEvent)),
        change(streams.groupName(event.data.name), () => id),
      ];
    case 'gatehouse.events.v1.GroupProfileUpdated':
      return [
        change(streams.group(id), (state) => evolveGroup(state, event as GroupEvent)),
        ...(event.data.previousName
          ? [
              change(streams.groupName(event.data.previousName), () => null),
              change(streams.groupName(event.data.name), () => id),
            ]
          : []),
      ];
    case 'gatehouse.events.v1.GroupDeleted':
      return [
        change(streams.group(id), (state) => evolveGroup(state, event as GroupEvent)),
        change(streams.groupName(event.data.name), () => null),
      ];
    case 'gatehouse.events.v1.GroupMemberAdded':
    case 'gatehouse.events.v1.GroupMemberRemoved': {
      const member = event.type === 'gatehouse.events.v1.GroupMemberAdded';
      return [
        change(streams.user(event.data.userId), (state) => evolveUserMembership(state, id, member)),
      ];
    }
    case 'gatehouse.events.v1.AppUserAssigned':
    case 'gatehouse.events.v1.AppUserUnassigned':
      return [
        change(
          streams.appUser(id, event.data.userId),
          () => event.type === 'gatehouse.events.v1.AppUserAssigned',
        ),
      ];
    case 'gatehouse.events.v1.AppGroupAssigned':
    case 'gatehouse.events.v1.AppGroupUnassigned':
      return [
        change(
          streams.appGroup(id, event.data.groupId),
          () => event.type === 'gatehouse.events.v1.AppGroupAssigned',
        ),
      ];
    case 'gatehouse.events.v1.ClientRegistered':
    case 'gatehouse.events.v1.ClientUpdated':
    case 'gatehouse.events.v1.ClientSecretRotated':
    case 'gatehouse.events.v1.ClientActivated':
    case 'gatehouse.events.v1.ClientDeactivated':
    case 'gatehouse.events.v1.ClientDeleted':
      return [change(streams.client(id), (state) => evolveClient(state, event as ClientEvent))];
    default: {
      // The authorization server and its scopes, claims, policies and rules.
      const serverEvent: ServerEvent = event;
      return [change(streams.server(id), (state) => evolveServer(state, serverEvent))];
    }
  }
}

/**
 * Events a command appended come from gatehouse.directory; gatehouse.client-lifecycle carries the
 * projector's copies of them, and, in logs written before every client event went to the directory,
 * the only record of a client's lifecycle: those (without a command id) are read there.
 */
export const readsDirectoryEvent = (topic: string, envelope: Envelope) =>
  topic === Topics.directory || envelope.commandId === '';

/** The directory write model, as the projector runs it (a `WriteModel` of @gatehouse/projections). */
export const directoryWriteModel = {
  name: 'directory',
  topics: [Topics.directory, Topics.clientLifecycle],
  accepts: readsDirectoryEvent,
  changes: directoryChanges,
} as const;
