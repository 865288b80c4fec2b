// Each check of an authorization request, in the order that decides which error a request gets and
// where it goes: a page until the client and its redirect URI are known good, the client after.
import type { ClientView } from '@gatehouse/directory';
import { describe, expect, it } from 'vitest';
import { readParameters } from '../../parameters.js';
import { authorizationChecks, checkAuthorizationRequest } from './index.js';

const redirectUri = 'https://app.example.com/cb';
const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const clientWith = (
  metadata: Partial<ClientView['metadata']> = {},
  status: ClientView['status'] = 'ACTIVE',
): ClientView => ({
  id: 'c1',
  status,
  created: '',
  lastUpdated: '',
  secretSha256: '',
  metadata: {
    clientName: 'App',
    redirectUris: [redirectUri],
    responseTypes: ['code', 'code id_token', 'id_token token'],
    grantTypes: ['authorization_code', 'implicit'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    ...metadata,
  } as ClientView['metadata'],
});
const confidential = clientWith();
const publicClient = clientWith({ tokenEndpointAuthMethod: 'none' });

/** Given a query (and the client its client_id names, null for none), the request or the problem. */
function check(query: Record<string, string> | string, found: ClientView | null = confidential) {
  const client = found ?? undefined;
  const raw = readParameters(
    typeof query === 'string' ? query : new URLSearchParams(query).toString(),
  );
  return checkAuthorizationRequest(raw, { tenant: 'acme', serverId: 'aus1', client });
}

const good = {
  client_id: 'c1',
  redirect_uri: redirectUri,
  response_type: 'code',
  scope: 'openid',
  state: 'st',
};
const page = (status: number, error: string, description: string) => ({
  problem: { to: 'page', status, error, description },
});
const back = (
  error: string,
  description: string,
  responseMode = 'query',
  /** null: the refusal carries no state. */
  state: string | null = 'st',
) => ({
  problem: {
    to: 'client',
    error,
    description,
    redirectUri,
    responseMode,
    ...(state !== null ? { state } : {}),
  },
});

describe('the checks of an authorization request', () => {
  it('run in this order', () => {
    expect(authorizationChecks.map((check) => check.name)).toEqual([
      'rejectRepeatedClientParameters',
      'checkClient',
      'checkRedirectUri',
      'rejectRepeatedParameters',
      'checkParameterLengths',
      'rejectRequestObjects',
      'checkResponseType',
      'checkResponseMode',
      'checkResponseTypeAllowed',
      'checkScope',
      'checkNonce',
      'checkState',
      'checkPrompt',
      'checkMaxAge',
      'checkIdp',
      'checkPkce',
    ]);
  });

  it('shows a page while the client or its redirect URI is in doubt', () => {
    expect(check('client_id=c1&client_id=c2&redirect_uri=x')).toEqual(
      page(400, 'invalid_request', "The 'client_id' parameter was sent more than once."),
    );
    expect(check(`client_id=c1&redirect_uri=${redirectUri}&redirect_uri=x`)).toEqual(
      page(400, 'invalid_request', "The 'redirect_uri' parameter was sent more than once."),
    );
    expect(check({ ...good, client_id: '' })).toEqual(
      page(400, 'invalid_request', "The 'client_id' parameter is required."),
    );
    const unknown = page(400, 'invalid_client', 'The client is unknown or not active.');
    expect(check(good, null)).toEqual(unknown);
    expect(check(good, clientWith({}, 'INACTIVE'))).toEqual(unknown);
    expect(check({ ...good, client_id: 'c'.repeat(101) })).toEqual(unknown);
    expect(check({ ...good, redirect_uri: '' })).toEqual(
      page(400, 'invalid_request', "The 'redirect_uri' parameter is required."),
    );
    expect(check({ ...good, redirect_uri: `${redirectUri}/` })).toEqual(
      page(
        400,
        'invalid_request',
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
      ),
    );
  });

  it('sends everything after back to the client, first failing check first', () => {
    expect(check(`${new URLSearchParams(good)}&scope=profile`)).toEqual(
      back('invalid_request', "The 'scope' parameter was sent more than once."),
    );
    expect(check({ ...good, nonce: 'n'.repeat(513), scope: 's'.repeat(1025) })).toEqual(
      back('invalid_scope', "The 'scope' parameter must be at most 1024 characters."),
    );
    expect(check({ ...good, request: 'x', nonce: 'n'.repeat(513) })).toEqual(
      back('invalid_request', "The 'nonce' parameter must be at most 512 characters."),
    );
    expect(check({ ...good, request: 'x', request_uri: 'x' })).toEqual(
      back('request_not_supported', "The 'request' parameter is not supported."),
    );
    expect(check({ ...good, request_uri: 'x', response_type: '' })).toEqual(
      back('request_uri_not_supported', "The 'request_uri' parameter is not supported."),
    );
    expect(check({ ...good, response_type: '', response_mode: 'nope' })).toEqual(
      back('invalid_request', "The 'response_type' parameter is required."),
    );
    expect(check({ ...good, response_type: 'code code', response_mode: 'nope' })).toEqual(
      back('unsupported_response_type', "The response type 'code code' is not supported."),
    );
    expect(check({ ...good, response_type: 'token', response_mode: 'nope' })).toEqual(
      back('unsupported_response_mode', "The response mode 'nope' is not supported.", 'fragment'),
    );
    expect(check({ ...good, response_type: 'token', response_mode: 'query' })).toEqual(
      back(
        'unsupported_response_mode',
        "The 'query' response mode cannot be used with a response type that returns tokens.",
        'fragment',
      ),
    );
    expect(check({ ...good, response_type: 'token', response_mode: 'form_post' })).toEqual(
      back(
        'unauthorized_client',
        "The client is not allowed the response type 'token'.",
        'form_post',
      ),
    );
    expect(
      check({ ...good, response_type: 'code' }, clientWith({ grantTypes: ['implicit'] })),
    ).toEqual(back('unauthorized_client', "The client is not allowed the response type 'code'."));
    expect(check({ ...good, scope: '', prompt: 'bad' })).toEqual(
      back('invalid_scope', "The 'scope' parameter is required."),
    );
    expect(check({ ...good, scope: 'openid "x"' })).toEqual(
      back('invalid_scope', 'The requested scope is invalid, unknown, or malformed.'),
    );
    expect(check({ ...good, response_type: 'id_token token', scope: 'profile' })).toEqual(
      back('invalid_scope', "An ID token needs the 'openid' scope.", 'fragment'),
    );
    expect(check({ ...good, response_type: 'code id_token', prompt: 'bad' })).toEqual(
      back(
        'invalid_request',
        "The 'nonce' parameter is required when an ID token comes from the authorization endpoint.",
        'fragment',
      ),
    );
    expect(check({ ...good, prompt: 'none login', max_age: 'x' })).toEqual(
      back(
        'invalid_request',
        "The 'prompt' parameter must be 'none', or 'login' and/or 'consent'.",
      ),
    );
    expect(check({ ...good, prompt: 'login login' })).toEqual(
      back(
        'invalid_request',
        "The 'prompt' parameter must be 'none', or 'login' and/or 'consent'.",
      ),
    );
    expect(check({ ...good, max_age: '-1', idp: 'other' })).toEqual(
      back('invalid_request', "The 'max_age' parameter must be a number of seconds."),
    );
    expect(check({ ...good, idp: 'other', code_challenge_method: 'S256' })).toEqual(
      back('invalid_request', "The identity provider 'other' is not known."),
    );
    expect(check({ ...good, code_challenge_method: 'S256' })).toEqual(
      back('invalid_request', "'code_challenge_method' needs a 'code_challenge'."),
    );
    expect(check({ ...good, code_challenge: challenge, code_challenge_method: 'plain' })).toEqual(
      back(
        'invalid_request',
        "The 'code_challenge_method' parameter must be 'S256'; 'plain' is not supported.",
      ),
    );
    expect(check({ ...good, code_challenge: challenge })).toEqual(
      back(
        'invalid_request',
        "The 'code_challenge_method' parameter must be 'S256'; 'plain' is not supported.",
      ),
    );
    expect(check({ ...good, code_challenge: 'short', code_challenge_method: 'S256' })).toEqual(
      back(
        'invalid_request',
        "The 'code_challenge' parameter must be the base64url SHA-256 of the code verifier.",
      ),
    );
    expect(check(good, publicClient)).toEqual(
      back(
        'invalid_request',
        "PKCE is required for public clients: send 'code_challenge' and 'code_challenge_method'.",
      ),
    );
  });

  it('sends a refusal in the mode asked for, with the state only when it is short enough', () => {
    expect(check({ ...good, response_mode: 'form_post', scope: '' })).toEqual(
      back('invalid_scope', "The 'scope' parameter is required.", 'form_post'),
    );
    expect(check({ ...good, response_type: 'nope', response_mode: 'okta_post_message' })).toEqual(
      back(
        'unsupported_response_type',
        "The response type 'nope' is not supported.",
        'okta_post_message',
      ),
    );
    expect(check({ ...good, state: 's'.repeat(2049) })).toEqual(
      back(
        'invalid_request',
        "The 'state' parameter must be at most 2048 characters.",
        'query',
        null,
      ),
    );
  });

  it('reads a request that passes every check, in its canonical form', () => {
    const everything = clientWith({
      responseTypes: ['code id_token token', 'id_token'],
    });
    expect(
      check(
        {
          ...good,
          response_type: 'token id_token code',
          scope: 'openid profile openid offline_access',
          nonce: 'n',
          prompt: 'login consent',
          max_age: '300',
          idp: 'acme',
          login_hint: 'ann@example.com',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        },
        everything,
      ),
    ).toEqual({
      request: {
        tenant: 'acme',
        serverId: 'aus1',
        clientId: 'c1',
        redirectUri,
        responseType: ['code', 'id_token', 'token'],
        responseMode: 'fragment',
        scopes: ['openid', 'profile', 'offline_access'],
        state: 'st',
        nonce: 'n',
        prompt: ['login', 'consent'],
        maxAge: 300,
        loginHint: 'ann@example.com',
        codeChallenge: challenge,
      },
    });
    // Without a code: no offline_access, and a code_challenge is not kept.
    expect(
      check(
        {
          client_id: 'c1',
          redirect_uri: redirectUri,
          response_type: 'id_token',
          scope: 'openid offline_access',
          nonce: 'n',
          code_challenge: 'anything',
        },
        everything,
      ),
    ).toEqual({
      request: {
        tenant: 'acme',
        serverId: 'aus1',
        clientId: 'c1',
        redirectUri,
        responseType: ['id_token'],
        responseMode: 'fragment',
        scopes: ['openid'],
        nonce: 'n',
        prompt: [],
      },
    });
  });
});
