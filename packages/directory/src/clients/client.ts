// The OAuth client (app) aggregate as a decider. Every client event goes to gatehouse.directory, the
// client's source of truth; the projector republishes the lifecycle ones (activate, deactivate,
// delete, new secret) to gatehouse.client-lifecycle (SPEC section 7). An assignment (a user or a
// group to the app) is decided on the client and on that assignment alone, so that assigning many
// users at once never conflicts.
import type { ClientMetadata, SealedClientSecret } from '@gatehouse/contracts';
import { DomainError } from '../errors.js';
import type { DirectoryEvent } from '../events.js';
import { isPublicClient, storedClientMetadata, usesClientSecret } from './metadata.js';

/**
 * `hasSecret`: whether a client secret was ever set. A client keeps its secret when it switches to
 * private_key_jwt (the token endpoint then accepts no secret), so it can switch back.
 * `sealedSecret`: whether its secret is also kept sealed, as client_secret_jwt needs (secrets made
 * before they were sealed are kept only as digests).
 */
export type ClientState =
  | { status: 'NONE' }
  | {
      status: 'ACTIVE' | 'INACTIVE';
      metadata: ClientMetadata;
      hasSecret: boolean;
      sealedSecret: boolean;
    };

export const initialClientState: ClientState = { status: 'NONE' };

/**
 * A client's state as the write model kept it in JSON. States kept before private_key_jwt clients
 * had no `hasSecret`: then every confidential client had a secret and no public one did.
 */
export function storedClientState(json: unknown): ClientState {
  const state = json as
    | { status: 'NONE' }
    | {
        status: 'ACTIVE' | 'INACTIVE';
        metadata: unknown;
        hasSecret?: boolean;
        sealedSecret?: boolean;
      }
    | null
    | undefined;
  if (!state || state.status === 'NONE') return initialClientState;
  const metadata = storedClientMetadata(state.metadata);
  return {
    status: state.status,
    metadata,
    hasSecret: state.hasSecret ?? !isPublicClient(metadata),
    sealedSecret: state.sealedSecret ?? false,
  };
}

export type ClientCommand =
  | {
      kind: 'RegisterClient';
      id: string;
      metadata: ClientMetadata;
      secretSha256: string;
      /** The same secret sealed under the KEK (required for client_secret_jwt). */
      secretSealed?: SealedClientSecret;
    }
  | { kind: 'UpdateClient'; id: string; metadata: ClientMetadata }
  | {
      kind: 'RotateClientSecret';
      id: string;
      secretSha256: string;
      secretSealed?: SealedClientSecret;
    }
  | { kind: 'ActivateClient'; id: string }
  | { kind: 'DeactivateClient'; id: string }
  | { kind: 'DeleteClient'; id: string }
  | { kind: 'AssignUser' | 'UnassignUser'; id: string; userId: string }
  | { kind: 'AssignGroup' | 'UnassignGroup'; id: string; groupId: string };

export type ClientEvent = Extract<
  DirectoryEvent,
  { type: `gatehouse.events.v1.${'Client' | 'App'}${string}` }
>;

/** `assigned`: for assignment commands, whether that user or group is assigned now. */
export function decideClient(
  command: ClientCommand,
  state: ClientState,
  assigned = false,
): ClientEvent[] {
  if (command.kind === 'RegisterClient') {
    if (state.status !== 'NONE')
      throw DomainError.invalid([
        { field: 'client_id', message: 'A client with this id already exists' },
      ]);
    if (usesClientSecret(command.metadata) !== (command.secretSha256 !== '')) {
      throw new Error(
        'a client that authenticates with a secret needs one, and any other client must not have one',
      );
    }
    if (command.metadata.tokenEndpointAuthMethod === 'client_secret_jwt' && !command.secretSealed)
      throw new Error('a client_secret_jwt client needs its secret sealed');
    return [
      {
        type: 'gatehouse.events.v1.ClientRegistered',
        data: {
          metadata: command.metadata,
          clientSecretSha256: command.secretSha256,
          ...(command.secretSealed ? { clientSecretSealed: command.secretSealed } : {}),
        },
      },
    ];
  }
  if (state.status === 'NONE')
    throw new DomainError('not_found', `Resource not found: ${command.id} (AppInstance)`);
  switch (command.kind) {
    case 'UpdateClient':
      if (isPublicClient(command.metadata) !== isPublicClient(state.metadata)) {
        throw DomainError.invalid([
          {
            field: 'token_endpoint_auth_method',
            message:
              'cannot change between a public client (none) and a confidential one; register a new client',
          },
        ]);
      }
      // A client without a secret cannot start using one by an update: nobody holds a secret for
      // it, and a new one is made only for a client that already authenticates with one.
      if (usesClientSecret(command.metadata) && !state.hasSecret) {
        throw DomainError.invalid([
          {
            field: 'token_endpoint_auth_method',
            message: `this client has no client secret, so it cannot change to ${command.metadata.tokenEndpointAuthMethod}; register a new client`,
          },
        ]);
      }
      // client_secret_jwt verifies with the secret itself, which only a sealed secret gives.
      if (
        command.metadata.tokenEndpointAuthMethod === 'client_secret_jwt' &&
        state.metadata.tokenEndpointAuthMethod !== 'client_secret_jwt' &&
        !state.sealedSecret
      ) {
        throw DomainError.invalid([
          {
            field: 'token_endpoint_auth_method',
            message:
              "this client's secret was made before secrets were kept for client_secret_jwt (only its digest is kept): generate a new secret (lifecycle/newSecret), then change the method",
          },
        ]);
      }
      return JSON.stringify(command.metadata) === JSON.stringify(state.metadata)
        ? []
        : [{ type: 'gatehouse.events.v1.ClientUpdated', data: { metadata: command.metadata } }];
    case 'RotateClientSecret':
      if (isPublicClient(state.metadata))
        throw new DomainError('invalid_state', 'A public client has no secret to rotate');
      if (!usesClientSecret(state.metadata))
        throw DomainError.invalid([
          {
            field: 'token_endpoint_auth_method',
            message: `a ${state.metadata.tokenEndpointAuthMethod} client authenticates with its keys, not a client secret: it has no secret to rotate`,
          },
        ]);
      return [
        {
          type: 'gatehouse.events.v1.ClientSecretRotated',
          data: {
            clientSecretSha256: command.secretSha256,
            ...(command.secretSealed ? { clientSecretSealed: command.secretSealed } : {}),
          },
        },
      ];
    case 'ActivateClient':
      return state.status === 'ACTIVE'
        ? []
        : [{ type: 'gatehouse.events.v1.ClientActivated', data: {} }];
    case 'DeactivateClient':
      return state.status === 'INACTIVE'
        ? []
        : [{ type: 'gatehouse.events.v1.ClientDeactivated', data: {} }];
    case 'DeleteClient':
      return [{ type: 'gatehouse.events.v1.ClientDeleted', data: {} }];
    case 'AssignUser':
      return assigned
        ? []
        : [{ type: 'gatehouse.events.v1.AppUserAssigned', data: { userId: command.userId } }];
    case 'UnassignUser':
      return assigned
        ? [{ type: 'gatehouse.events.v1.AppUserUnassigned', data: { userId: command.userId } }]
        : [];
    case 'AssignGroup':
      return assigned
        ? []
        : [{ type: 'gatehouse.events.v1.AppGroupAssigned', data: { groupId: command.groupId } }];
    case 'UnassignGroup':
      return assigned
        ? [{ type: 'gatehouse.events.v1.AppGroupUnassigned', data: { groupId: command.groupId } }]
        : [];
  }
}

export function evolveClient(state: ClientState, event: ClientEvent): ClientState {
  if (event.type === 'gatehouse.events.v1.ClientRegistered')
    return {
      status: 'ACTIVE',
      metadata: event.data.metadata!,
      hasSecret: event.data.clientSecretSha256 !== '',
      sealedSecret: event.data.clientSecretSealed !== undefined,
    };
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'gatehouse.events.v1.ClientUpdated':
      return { ...state, metadata: event.data.metadata! };
    case 'gatehouse.events.v1.ClientSecretRotated':
      return {
        ...state,
        hasSecret: true,
        sealedSecret: event.data.clientSecretSealed !== undefined,
      };
    case 'gatehouse.events.v1.ClientActivated':
      return { ...state, status: 'ACTIVE' };
    case 'gatehouse.events.v1.ClientDeactivated':
      return { ...state, status: 'INACTIVE' };
    case 'gatehouse.events.v1.ClientDeleted':
      return { status: 'NONE' };
    default:
      // Assignments (whose state is the assignment's own): the client is as it was.
      return state;
  }
}
