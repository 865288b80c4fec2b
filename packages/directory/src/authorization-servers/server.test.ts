import { type Scope, ScopeConsent } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
import { checkScopeName, systemScope } from './scopes.js';
import { decideServer, evolveServer, initialServerState, type ServerEvent } from './server.js';

const settings = {
  name: 'default',
  description: 'Default Authorization Server',
  audiences: ['api://default'],
};
const openid = systemScope('scp0', 'openid');
const created: ServerEvent[] = [
  { type: 'gatehouse.events.v1.AuthorizationServerCreated', data: settings },
  { type: 'gatehouse.events.v1.ScopeCreated', data: { scope: openid } },
];
const custom: Scope = {
  id: 'scp1',
  name: 'orders:read',
  description: 'Read orders',
  displayName: 'Orders',
  consent: ScopeConsent.SCOPE_CONSENT_REQUIRED,
  isDefault: false,
  isOptional: false,
  metadataPublish: 'NO_CLIENTS',
  system: false,
};
const deactivated: ServerEvent = {
  type: 'gatehouse.events.v1.AuthorizationServerDeactivated',
  data: {},
};
const given = deciderSpec({
  decide: decideServer,
  evolve: evolveServer,
  initialState: initialServerState,
});

describe('scope names (seed 001)', () => {
  it('accept printable ASCII and refuse spaces, quotes, backslashes, okta prefixes, * and okta', () => {
    for (const ok of [
      'orders:read',
      'https://api.example.com/orders',
      'a',
      'x'.repeat(300),
      'a<b',
      'b>a',
    ])
      expect(checkScopeName(ok), ok).toEqual([]);
    for (const bad of [
      'has space',
      'quo"te',
      'back\\slash',
      'okta.users.read',
      'okta:x',
      'okta',
      '*',
      '',
      'ünï',
      'x'.repeat(301),
      'a<b>',
      'groups',
      'device_sso',
    ]) {
      expect(checkScopeName(bad), bad).toHaveLength(1);
    }
  });
});

describe('authorization server decider', () => {
  it('creates a server with its system scopes; refuses bad settings', () => {
    given([])
      .when({ kind: 'CreateServer', id: 'default', settings, systemScopes: [openid] })
      .thenEmits(created);
    given([])
      .when({
        kind: 'CreateServer',
        id: 'x',
        settings: { name: '', description: '', audiences: [] },
      })
      .thenRefuses('invalid', ['name', 'audiences']);
  });

  it('deletes only a deactivated server', () => {
    given(created).when({ kind: 'DeleteServer', id: 'default' }).thenRefuses('invalid_state');
    given([...created, deactivated])
      .when({ kind: 'DeleteServer', id: 'default' })
      .thenEmits([{ type: 'gatehouse.events.v1.AuthorizationServerDeleted', data: {} }]);
    given([...created, deactivated])
      .when({ kind: 'DeactivateServer', id: 'default' })
      .thenEmits([]);
  });

  it('adds scopes with unique names, and never changes or deletes a system scope', () => {
    given(created)
      .when({ kind: 'CreateScope', id: 'default', scope: custom })
      .thenEmits([{ type: 'gatehouse.events.v1.ScopeCreated', data: { scope: custom } }]);
    given(created)
      .when({ kind: 'CreateScope', id: 'default', scope: { ...custom, name: 'openid' } })
      .thenRefuses('invalid', ['name']);
    given(created)
      .when({ kind: 'CreateScope', id: 'default', scope: { ...custom, name: 'okta.apps.read' } })
      .thenRefuses('invalid', ['name']);
    given(created)
      .when({ kind: 'UpdateScope', id: 'default', scope: { ...openid, description: 'changed' } })
      .thenRefuses('invalid_state');
    given(created)
      .when({ kind: 'DeleteScope', id: 'default', scopeId: openid.id })
      .thenRefuses('invalid_state');
    const withCustom = [
      ...created,
      { type: 'gatehouse.events.v1.ScopeCreated', data: { scope: custom } } as ServerEvent,
    ];
    given(withCustom)
      .when({ kind: 'UpdateScope', id: 'default', scope: { ...custom, name: 'orders:write' } })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.ScopeUpdated',
          data: { scope: { ...custom, name: 'orders:write' }, previousName: 'orders:read' },
        },
      ]);
    given(withCustom)
      .when({ kind: 'DeleteScope', id: 'default', scopeId: custom.id })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.ScopeDeleted',
          data: { scopeId: custom.id, name: custom.name },
        },
      ]);
  });

  it('refuses commands on a server that does not exist', () => {
    given([]).when({ kind: 'ActivateServer', id: 'nope' }).thenRefuses('not_found');
    expect(
      evolveServer(initialServerState, {
        type: 'gatehouse.events.v1.ScopeDeleted',
        data: { scopeId: 'x', name: 'y' },
      }),
    ).toEqual(initialServerState);
  });
});
