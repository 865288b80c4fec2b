import type { ClientMetadata } from '@gatehouse/contracts';
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
import {
  type ClientEvent,
  decideClient,
  evolveClient,
  initialClientState,
  storedClientState,
} from './client.js';
import { checkRedirectUri, readClientMetadata } from './metadata.js';

describe('client metadata', () => {
  it("fills Okta's defaults for a web application", () => {
    const { metadata, problems } = readClientMetadata({
      client_name: ' Web ',
      redirect_uris: ['https://app.example.com/cb'],
    });
    expect(problems).toEqual([]);
    expect(metadata).toEqual({
      clientName: 'Web',
      redirectUris: ['https://app.example.com/cb'],
      postLogoutRedirectUris: [],
      responseTypes: ['code'],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      applicationType: 'web',
      consentMethod: 'REQUIRED',
      jwks: '',
      jwksUri: '',
      requirePushedAuthorizationRequests: false,
      dpopBoundAccessTokens: false,
    });
  });

  it('takes the device authorization grant for native applications only, with refresh tokens', () => {
    const device = 'urn:ietf:params:oauth:grant-type:device_code';
    const tv = readClientMetadata({
      client_name: 'TV',
      application_type: 'native',
      grant_types: [device, 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    expect(tv.problems).toEqual([]);
    expect(tv.metadata).toMatchObject({
      grantTypes: [device, 'refresh_token'],
      responseTypes: [],
      redirectUris: [],
    });
    const web = readClientMetadata({
      client_name: 'Web',
      redirect_uris: ['https://app.example.com/cb'],
      grant_types: ['authorization_code', device],
    });
    expect(web.problems).toEqual([
      {
        field: 'grant_types',
        message: `only a native application can use the '${device}' grant type`,
      },
    ]);
  });

  it('takes a service app\'s response_types ["token"], as Okta registers them, and nothing else without implicit', () => {
    const service = { client_name: 'Job', application_type: 'service' };
    expect(
      readClientMetadata({ ...service, response_types: ['token'] }).metadata?.responseTypes,
    ).toEqual(['token']);
    expect(readClientMetadata({ ...service, response_types: ['id_token'] }).problems).toEqual([
      { field: 'response_types', message: "'id_token' needs the implicit grant type" },
    ]);
    const web = { client_name: 'Web', redirect_uris: ['https://app.example.com/cb'] };
    expect(readClientMetadata({ ...web, response_types: ['token'] }).problems).toEqual([
      { field: 'response_types', message: "'token' needs the implicit grant type" },
    ]);
  });

  it('reads dpop_bound_access_tokens (RFC 9449 section 5.2), false unless given', () => {
    const web = { client_name: 'Web', redirect_uris: ['https://app.example.com/cb'] };
    expect(readClientMetadata(web).metadata?.dpopBoundAccessTokens).toBe(false);
    expect(
      readClientMetadata({ ...web, dpop_bound_access_tokens: true }).metadata
        ?.dpopBoundAccessTokens,
    ).toBe(true);
    expect(readClientMetadata({ ...web, dpop_bound_access_tokens: 1 }).problems).toEqual([
      {
        field: 'dpop_bound_access_tokens',
        message: "'dpop_bound_access_tokens' must be true or false",
      },
    ]);
  });

  it('reads require_pushed_authorization_requests (RFC 9126) for clients of the authorization endpoint only', () => {
    const web = { client_name: 'Web', redirect_uris: ['https://app.example.com/cb'] };
    expect(
      readClientMetadata({ ...web, require_pushed_authorization_requests: true }).metadata
        ?.requirePushedAuthorizationRequests,
    ).toBe(true);
    expect(
      readClientMetadata({ ...web, require_pushed_authorization_requests: 'yes' }).problems,
    ).toEqual([
      {
        field: 'require_pushed_authorization_requests',
        message: "'require_pushed_authorization_requests' must be true or false",
      },
    ]);
    expect(
      readClientMetadata({
        client_name: 'Job',
        application_type: 'service',
        require_pushed_authorization_requests: true,
      }).problems.map((problem) => problem.field),
    ).toEqual(['require_pushed_authorization_requests']);
  });

  it('makes a browser application public, and a service application client-credentials only', () => {
    expect(
      readClientMetadata({
        client_name: 'SPA',
        application_type: 'browser',
        redirect_uris: ['http://localhost:3000/cb'],
      }).metadata?.tokenEndpointAuthMethod,
    ).toBe('none');
    expect(
      readClientMetadata({ client_name: 'Job', application_type: 'service' }).metadata,
    ).toMatchObject({ grantTypes: ['client_credentials'], responseTypes: [], redirectUris: [] });
  });

  it('normalises response type combinations and checks them against the grant types', () => {
    const { metadata } = readClientMetadata({
      client_name: 'Hybrid',
      grant_types: ['authorization_code', 'implicit'],
      response_types: ['id_token code', 'token id_token'],
      redirect_uris: ['https://a.example/cb'],
    });
    expect(metadata?.responseTypes).toEqual(['code id_token', 'id_token token']);
    expect(
      readClientMetadata({
        client_name: 'X',
        response_types: ['token'],
        redirect_uris: ['https://a.example/cb'],
      }).problems.map((p) => p.message),
    ).toEqual(["'token' needs the implicit grant type"]);
  });

  it('names every rule an application breaks', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ['client_name', 'redirect_uris']],
      [
        { client_name: 'S', application_type: 'service', token_endpoint_auth_method: 'none' },
        ['token_endpoint_auth_method'],
      ],
      [
        {
          client_name: 'B',
          application_type: 'browser',
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: ['https://a.example/cb'],
        },
        ['token_endpoint_auth_method'],
      ],
      [
        { client_name: 'B', application_type: 'browser', grant_types: ['client_credentials'] },
        ['grant_types'],
      ],
      [{ client_name: 'R', grant_types: ['refresh_token'] }, ['grant_types']],
      [
        { client_name: 'G', grant_types: ['password'], redirect_uris: ['https://a.example/cb'] },
        ['grant_types'],
      ],
      [
        { client_name: 'T', application_type: 'tv', redirect_uris: ['https://a.example/cb'] },
        ['application_type'],
      ],
      [{ client_name: 7, redirect_uris: 'https://a.example/cb' }, ['client_name', 'redirect_uris']],
    ];
    for (const [input, fields] of cases)
      expect(
        readClientMetadata(input).problems.map((p) => p.field),
        JSON.stringify(input),
      ).toEqual(fields);
  });

  it('accepts only safe redirect URIs', () => {
    expect(checkRedirectUri('r', 'https://app.example.com/cb?x=1', 'web')).toEqual([]);
    expect(checkRedirectUri('r', 'http://localhost:8080/cb', 'web')).toEqual([]);
    expect(checkRedirectUri('r', 'http://127.0.0.1/cb', 'native')).toEqual([]);
    expect(checkRedirectUri('r', 'com.example.app:/callback', 'native')).toEqual([]);
    for (const [uri, type] of [
      ['http://app.example.com/cb', 'web'],
      ['https://app.example.com/cb#frag', 'web'],
      ['/relative', 'web'],
      ['com.example.app:/callback', 'web'],
      ['myapp:/callback', 'native'],
      ['javascript:alert(1)', 'web'],
      [`https://a.example/${'x'.repeat(1100)}`, 'web'],
    ] as const) {
      expect(checkRedirectUri('r', uri, type), uri).toHaveLength(1);
    }
  });
});

const metadata: ClientMetadata = readClientMetadata({
  client_name: 'Web',
  redirect_uris: ['https://a.example/cb'],
}).metadata!;
const spa: ClientMetadata = readClientMetadata({
  client_name: 'SPA',
  application_type: 'browser',
  redirect_uris: ['https://a.example/cb'],
}).metadata!;
const withKeys: ClientMetadata = readClientMetadata({
  client_name: 'Web',
  redirect_uris: ['https://a.example/cb'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks_uri: 'https://a.example/jwks.json',
}).metadata!;
const withSecretJwt: ClientMetadata = { ...metadata, tokenEndpointAuthMethod: 'client_secret_jwt' };
/** A secret as the admin seals it; the decider only carries it. */
const sealed = {
  kekId: 'kek-1',
  iv: Buffer.alloc(12, 1),
  ciphertext: Buffer.alloc(43, 2),
  tag: Buffer.alloc(16, 3),
};
const id = '0oaAAAAAAAAAAAAAAAAA';
const registered: ClientEvent = {
  type: 'gatehouse.events.v1.ClientRegistered',
  data: { metadata, clientSecretSha256: 'd'.repeat(64) },
};
const given = deciderSpec({
  decide: decideClient,
  evolve: evolveClient,
  initialState: initialClientState,
});

describe('client decider', () => {
  it('registers, deactivates once, reactivates, deletes', () => {
    given([])
      .when({ kind: 'RegisterClient', id, metadata, secretSha256: 'd'.repeat(64) })
      .thenEmits([registered]);
    given([registered])
      .when({ kind: 'DeactivateClient', id })
      .thenEmits([{ type: 'gatehouse.events.v1.ClientDeactivated', data: {} }]);
    given([registered, { type: 'gatehouse.events.v1.ClientDeactivated', data: {} }])
      .when({ kind: 'DeactivateClient', id })
      .thenEmits([]);
    given([registered, { type: 'gatehouse.events.v1.ClientDeactivated', data: {} }])
      .when({ kind: 'ActivateClient', id })
      .thenEmits([{ type: 'gatehouse.events.v1.ClientActivated', data: {} }]);
    given([registered])
      .when({ kind: 'DeleteClient', id })
      .thenEmits([{ type: 'gatehouse.events.v1.ClientDeleted', data: {} }]);
    given([registered, { type: 'gatehouse.events.v1.ClientDeleted', data: {} }])
      .when({ kind: 'ActivateClient', id })
      .thenRefuses('not_found');
  });

  it('rotates the secret of a confidential client only, and keeps a client public or confidential for life', () => {
    given([registered])
      .when({ kind: 'RotateClientSecret', id, secretSha256: 'e'.repeat(64) })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.ClientSecretRotated',
          data: { clientSecretSha256: 'e'.repeat(64) },
        },
      ]);
    const spaRegistered: ClientEvent = {
      type: 'gatehouse.events.v1.ClientRegistered',
      data: { metadata: spa, clientSecretSha256: '' },
    };
    given([spaRegistered])
      .when({ kind: 'RotateClientSecret', id, secretSha256: 'e'.repeat(64) })
      .thenRefuses('invalid_state');
    given([registered])
      .when({ kind: 'UpdateClient', id, metadata: spa })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
    given([registered]).when({ kind: 'UpdateClient', id, metadata }).thenEmits([]);
  });

  it('registers a private_key_jwt client without a secret, and never gives it one', () => {
    const keysRegistered: ClientEvent = {
      type: 'gatehouse.events.v1.ClientRegistered',
      data: { metadata: withKeys, clientSecretSha256: '' },
    };
    given([])
      .when({ kind: 'RegisterClient', id, metadata: withKeys, secretSha256: '' })
      .thenEmits([keysRegistered]);
    expect(() =>
      decideClient(
        { kind: 'RegisterClient', id, metadata: withKeys, secretSha256: 'd'.repeat(64) },
        initialClientState,
      ),
    ).toThrow('must not have one');
    given([keysRegistered])
      .when({ kind: 'RotateClientSecret', id, secretSha256: 'e'.repeat(64) })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
    // No secret was ever made for it, so it cannot turn into a client that needs one.
    given([keysRegistered])
      .when({ kind: 'UpdateClient', id, metadata })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
    given([keysRegistered])
      .when({ kind: 'UpdateClient', id, metadata: spa })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
  });

  it('lets a client with a secret switch to private_key_jwt and back, its secret kept', () => {
    const switched: ClientEvent = {
      type: 'gatehouse.events.v1.ClientUpdated',
      data: { metadata: withKeys },
    };
    given([registered])
      .when({ kind: 'UpdateClient', id, metadata: withKeys })
      .thenEmits([switched]);
    given([registered, switched])
      .when({ kind: 'RotateClientSecret', id, secretSha256: 'e'.repeat(64) })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
    given([registered, switched])
      .when({ kind: 'UpdateClient', id, metadata })
      .thenEmits([{ type: 'gatehouse.events.v1.ClientUpdated', data: { metadata } }]);
  });

  it('registers a client_secret_jwt client only with its secret sealed, and carries the sealed secret', () => {
    expect(() =>
      decideClient(
        { kind: 'RegisterClient', id, metadata: withSecretJwt, secretSha256: 'd'.repeat(64) },
        initialClientState,
      ),
    ).toThrow('needs its secret sealed');
    given([])
      .when({
        kind: 'RegisterClient',
        id,
        metadata: withSecretJwt,
        secretSha256: 'd'.repeat(64),
        secretSealed: sealed,
      })
      .thenEmits([
        {
          type: 'gatehouse.events.v1.ClientRegistered',
          data: {
            metadata: withSecretJwt,
            clientSecretSha256: 'd'.repeat(64),
            clientSecretSealed: sealed,
          },
        },
      ]);
  });

  it('lets a client switch to client_secret_jwt once its secret is sealed: at registration or by a rotation', () => {
    // `registered` is a secret made before secrets were sealed: only its digest is kept.
    expect([registered].reduce(evolveClient, initialClientState)).toMatchObject({
      sealedSecret: false,
    });
    given([registered])
      .when({ kind: 'UpdateClient', id, metadata: withSecretJwt })
      .thenRefuses('invalid', ['token_endpoint_auth_method']);
    expect(() =>
      decideClient(
        { kind: 'UpdateClient', id, metadata: withSecretJwt },
        [registered].reduce(evolveClient, initialClientState),
      ),
    ).toThrow('generate a new secret (lifecycle/newSecret)');
    const rotated: ClientEvent = {
      type: 'gatehouse.events.v1.ClientSecretRotated',
      data: { clientSecretSha256: 'e'.repeat(64), clientSecretSealed: sealed },
    };
    given([registered])
      .when({ kind: 'RotateClientSecret', id, secretSha256: 'e'.repeat(64), secretSealed: sealed })
      .thenEmits([rotated]);
    expect([registered, rotated].reduce(evolveClient, initialClientState)).toMatchObject({
      hasSecret: true,
      sealedSecret: true,
    });
    const switched: ClientEvent = {
      type: 'gatehouse.events.v1.ClientUpdated',
      data: { metadata: withSecretJwt },
    };
    given([registered, rotated])
      .when({ kind: 'UpdateClient', id, metadata: withSecretJwt })
      .thenEmits([switched]);
    // A secret sealed at registration needs no rotation first.
    const sealedAtRegistration: ClientEvent = {
      type: 'gatehouse.events.v1.ClientRegistered',
      data: { metadata, clientSecretSha256: 'd'.repeat(64), clientSecretSealed: sealed },
    };
    given([sealedAtRegistration])
      .when({ kind: 'UpdateClient', id, metadata: withSecretJwt })
      .thenEmits([switched]);
    // A rotation without a seal (an admin without a KEK) leaves the new secret unsealed.
    const unsealedRotation: ClientEvent = {
      type: 'gatehouse.events.v1.ClientSecretRotated',
      data: { clientSecretSha256: 'f'.repeat(64) },
    };
    expect(
      [sealedAtRegistration, unsealedRotation].reduce(evolveClient, initialClientState),
    ).toMatchObject({ sealedSecret: false });
    // The write model keeps the flag through JSON.
    const state = [registered, rotated].reduce(evolveClient, initialClientState);
    expect(storedClientState(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it('reads a state kept before private_key_jwt: a confidential client had a secret, metadata had no keys', () => {
    const { jwks: _, jwksUri: __, ...oldMetadata } = metadata;
    const kept = JSON.parse(JSON.stringify({ status: 'ACTIVE', metadata: oldMetadata }));
    const state = storedClientState(kept);
    expect(state).toEqual({ status: 'ACTIVE', metadata, hasSecret: true, sealedSecret: false });
    // The same metadata again changes nothing, as before.
    expect(decideClient({ kind: 'UpdateClient', id, metadata }, state)).toEqual([]);
    const { jwks: _a, jwksUri: _b, ...oldSpa } = spa;
    expect(storedClientState({ status: 'INACTIVE', metadata: oldSpa })).toEqual({
      status: 'INACTIVE',
      metadata: spa,
      hasSecret: false,
      sealedSecret: false,
    });
    expect(storedClientState(undefined)).toEqual(initialClientState);
    // Round trip of a new state through JSON, as the write model keeps it.
    const registeredState = [registered].reduce(evolveClient, initialClientState);
    expect(storedClientState(JSON.parse(JSON.stringify(registeredState)))).toEqual(registeredState);
  });

  it('assigns users and groups once each, by what the assignment is now', () => {
    const state = [registered].reduce(evolveClient, initialClientState);
    expect(decideClient({ kind: 'AssignUser', id, userId: '00u1' }, state, false)).toEqual([
      { type: 'gatehouse.events.v1.AppUserAssigned', data: { userId: '00u1' } },
    ]);
    expect(decideClient({ kind: 'AssignUser', id, userId: '00u1' }, state, true)).toEqual([]);
    expect(decideClient({ kind: 'UnassignGroup', id, groupId: '00g1' }, state, false)).toEqual([]);
    expect(decideClient({ kind: 'UnassignGroup', id, groupId: '00g1' }, state, true)).toEqual([
      { type: 'gatehouse.events.v1.AppGroupUnassigned', data: { groupId: '00g1' } },
    ]);
    expect(() =>
      decideClient({ kind: 'AssignUser', id, userId: '00u1' }, initialClientState, false),
    ).toThrow('Resource not found');
  });
});
