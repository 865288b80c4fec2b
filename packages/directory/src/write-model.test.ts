// The directory write model: which streams each event changes, and to what, with the deciders'
// evolve functions — the state every command decides on.
import { newEnvelope } from '@gatehouse/events';
import { describe, expect, it } from 'vitest';
import { readClientMetadata } from './clients/metadata.js';
import { type DirectoryEvent, encodeDirectoryEvent } from './events.js';
import { directoryChanges, readStreams, streams } from './write-model.js';

/** Stream states after `events` (each `[aggregateId, event]`), as the projector keeps them. */
function statesAfter(events: [string, DirectoryEvent][]) {
  const states = new Map<string, { version: number; state: unknown }>();
  for (const [aggregateId, event] of events) {
    const envelope = newEnvelope({
      type: event.type,
      tenant: 'acme',
      aggregateId,
      data: encodeDirectoryEvent(event),
    });
    for (const change of directoryChanges(envelope)) {
      const before = states.get(change.stream) ?? { version: 0, state: undefined };
      states.set(change.stream, {
        version: before.version + 1,
        state: change.evolve(before.state),
      });
    }
  }
  return {
    versions: (name: string) => states.get(name)?.version ?? 0,
    reads: {
      states: async (names: readonly string[]) => names.map((name) => states.get(name)?.state),
    },
  };
}

const profile = (login: string) => ({
  login,
  email: login,
  firstName: 'Ada',
  lastName: 'Lovelace',
});

describe('directory write model', () => {
  it("hands a login over on a rename and frees it on deletion, moving the streams' versions", async () => {
    const { reads, versions } = statesAfter([
      [
        '00u1',
        {
          type: 'gatehouse.events.v1.UserCreated',
          data: { profile: profile('Ada@Example.com'), passwordHash: '', status: 3 },
        },
      ],
      [
        '00u1',
        {
          type: 'gatehouse.events.v1.UserProfileUpdated',
          data: { profile: profile('countess@example.com'), previousLogin: 'Ada@Example.com' },
        },
      ],
      [
        '00u2',
        {
          type: 'gatehouse.events.v1.UserCreated',
          data: { profile: profile('ada@example.com'), passwordHash: '', status: 3 },
        },
      ],
      ['00u2', { type: 'gatehouse.events.v1.UserDeactivated', data: {} }],
      ['00u2', { type: 'gatehouse.events.v1.UserDeleted', data: { login: 'ada@example.com' } }],
    ]);
    const [first, renamed, reused, second] = await readStreams(reads, [
      streams.user('00u1'),
      streams.login('COUNTESS@example.com'),
      streams.login('ada@example.com'),
      streams.user('00u2'),
    ]);
    expect(first).toMatchObject({
      status: 'ACTIVE',
      profile: profile('countess@example.com'),
    });
    expect(renamed).toBe('00u1');
    // Freed by the rename, taken by 00u2, freed by its deletion: a new holder decides on version 4.
    expect(reused).toBeNull();
    expect(versions(streams.login('ada@example.com').name)).toBe(4);
    expect(second).toEqual({ status: 'NONE' });
  });

  it("keeps a user's groups, a group's name, app assignments and a new tenant's Everyone", async () => {
    const { reads } = statesAfter([
      [
        'acme',
        {
          type: 'gatehouse.events.v1.TenantCreated',
          data: { name: 'Acme', apiTokenSha256: 'a'.repeat(64), everyoneGroupId: '00gE' },
        },
      ],
      [
        '00u1',
        {
          type: 'gatehouse.events.v1.UserCreated',
          data: { profile: profile('ada@example.com'), passwordHash: 'x', status: 3 },
        },
      ],
      [
        '00g1',
        {
          type: 'gatehouse.events.v1.GroupCreated',
          data: { name: 'Engineers', description: '', type: 1 },
        },
      ],
      ['00g1', { type: 'gatehouse.events.v1.GroupMemberAdded', data: { userId: '00u1' } }],
      ['00g2', { type: 'gatehouse.events.v1.GroupMemberAdded', data: { userId: '00u1' } }],
      ['00g2', { type: 'gatehouse.events.v1.GroupMemberRemoved', data: { userId: '00u1' } }],
      ['0oa1', { type: 'gatehouse.events.v1.AppUserAssigned', data: { userId: '00u1' } }],
      ['0oa1', { type: 'gatehouse.events.v1.AppGroupAssigned', data: { groupId: '00g1' } }],
      ['0oa1', { type: 'gatehouse.events.v1.AppGroupUnassigned', data: { groupId: '00g1' } }],
    ]);
    const [tenant, everyone, user, name, assignedUser, assignedGroup] = await readStreams(reads, [
      streams.tenant('acme'),
      streams.group('00gE'),
      streams.user('00u1'),
      streams.groupName(' ENGINEERS '),
      streams.appUser('0oa1', '00u1'),
      streams.appGroup('0oa1', '00g1'),
    ]);
    expect(tenant).toEqual({ status: 'ACTIVE', name: 'Acme' });
    expect(everyone).toEqual({ status: 'EXISTS', type: 'BUILT_IN', name: 'Everyone' });
    expect(user).toMatchObject({ status: 'ACTIVE', groups: ['00g1'] });
    expect(name).toBe('00g1');
    expect(assignedUser).toBe(true);
    expect(assignedGroup).toBe(false);
  });

  it("keeps whether a client has a secret, and reads a client kept before that as its secret's owner", async () => {
    const metadata = readClientMetadata({
      client_name: 'Job',
      application_type: 'service',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://job.example/jwks',
    }).metadata!;
    const { reads } = statesAfter([
      [
        '0oa1',
        {
          type: 'gatehouse.events.v1.ClientRegistered',
          data: { metadata, clientSecretSha256: '' },
        },
      ],
    ]);
    const [keysOnly] = await readStreams(reads, [streams.client('0oa1')]);
    expect(keysOnly).toEqual({
      status: 'ACTIVE',
      metadata,
      hasSecret: false,
      sealedSecret: false,
    });
    const {
      jwks: _,
      jwksUri: __,
      ...before
    } = { ...metadata, tokenEndpointAuthMethod: 'client_secret_post' };
    const [kept] = await readStreams(
      { states: async () => [{ status: 'INACTIVE', metadata: before }] },
      [streams.client('0oa2')],
    );
    expect(kept).toEqual({
      status: 'INACTIVE',
      metadata: { ...before, jwks: '', jwksUri: '' },
      hasSecret: true,
      sealedSecret: false,
    });
  });

  it("keeps an authorization server's scopes, policies and rules through its JSON form", async () => {
    const { reads } = statesAfter([
      [
        'aus1',
        {
          type: 'gatehouse.events.v1.AuthorizationServerCreated',
          data: { name: 'API', description: '', audiences: ['api://x'] },
        },
      ],
      [
        'aus1',
        {
          type: 'gatehouse.events.v1.ScopeCreated',
          data: {
            scope: {
              id: 'scp1',
              name: 'orders.read',
              description: '',
              displayName: '',
              consent: 1,
              isDefault: false,
              isOptional: false,
              metadataPublish: 'NO_CLIENTS',
              system: false,
            },
          },
        },
      ],
      ['aus1', { type: 'gatehouse.events.v1.AuthorizationServerDeactivated', data: {} }],
    ]);
    const [server] = await readStreams(reads, [streams.server('aus1')]);
    expect(server.status).toBe('INACTIVE');
    if (server.status === 'NONE') throw new Error('no server');
    expect(server.scopes.get('scp1')?.name).toBe('orders.read');
    expect(server.policies).toEqual(new Map());
  });
});
