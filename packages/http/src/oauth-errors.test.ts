import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oktaErrors } from './koa.js';
import { oauthErrors } from './oauth.js';
import {
  AccessDenied,
  InsufficientScope,
  InvalidClient,
  InvalidClientMetadata,
  InvalidDpopProof,
  InvalidGrant,
  InvalidRedirectUri,
  InvalidRequest,
  InvalidScope,
  InvalidTarget,
  InvalidToken,
  OAuthError,
  oauthErrorBody,
  ServerError,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedTokenType,
  UseDpopNonce,
} from './oauth-errors.js';

/** Each class with the code and status it fixes, and the headers it adds on its own. */
const families: [OAuthError, string, number, Record<string, string>][] = [
  [new InvalidRequest('d'), 'invalid_request', 400, {}],
  [new InvalidClient('d'), 'invalid_client', 401, {}],
  [new InvalidGrant('d'), 'invalid_grant', 400, {}],
  [new UnauthorizedClient('d'), 'unauthorized_client', 400, {}],
  [new UnsupportedGrantType('d'), 'unsupported_grant_type', 400, {}],
  [new InvalidScope('d'), 'invalid_scope', 400, {}],
  [new UnsupportedTokenType('d'), 'unsupported_token_type', 400, {}],
  [new AccessDenied('d'), 'access_denied', 400, {}],
  [new TemporarilyUnavailable('d'), 'temporarily_unavailable', 503, { 'Retry-After': '1' }],
  [new ServerError('d'), 'server_error', 500, {}],
  [new InvalidToken('d'), 'invalid_token', 401, {}],
  [new InsufficientScope('d'), 'insufficient_scope', 403, {}],
  [new InvalidClientMetadata('d'), 'invalid_client_metadata', 400, {}],
  [new InvalidRedirectUri('d'), 'invalid_redirect_uri', 400, {}],
  [new InvalidDpopProof('d'), 'invalid_dpop_proof', 400, {}],
  [new InvalidTarget('d'), 'invalid_target', 400, {}],
  [new UseDpopNonce('n-1', 'd'), 'use_dpop_nonce', 400, { 'DPoP-Nonce': 'n-1' }],
];

describe('OAuth error classes', () => {
  it.each(
    families.map(([error, code, status, headers]) => [code, error, status, headers] as const),
  )(
    '%s: its code, status and headers, an OAuthError named after its class',
    (code, error, status, headers) => {
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toBeInstanceOf(Error);
      expect(error.error).toBe(code);
      expect(error.status).toBe(status);
      expect(error.description).toBe('d');
      expect(error.headers).toEqual(headers);
      expect(error.name).toBe(error.constructor.name);
      expect(error.message).toBe(`${code}: d`);
      expect(oauthErrorBody(error)).toEqual({ error: code, error_description: 'd' });
    },
  );

  it('gives every code in use exactly one class', () => {
    const codes = families.map(([, code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keeps the statuses Okta answers invalid_request with besides 400', () => {
    for (const status of [404, 405, 413, 415])
      expect(new InvalidRequest('d', status)).toMatchObject({ status, error: 'invalid_request' });
  });

  it('carries the challenge an invalid_client with Basic needs, and another Retry-After', () => {
    const basic = new InvalidClient('d', { 'WWW-Authenticate': 'Basic realm="gatehouse"' });
    expect(basic.headers).toEqual({ 'WWW-Authenticate': 'Basic realm="gatehouse"' });
    expect(new TemporarilyUnavailable('d', 5).headers).toEqual({ 'Retry-After': '5' });
  });

  it('leaves the base class constructible for a code that arrives as data', () => {
    const relayed = new OAuthError(400, 'login_required', 'd');
    expect(relayed).toMatchObject({ name: 'OAuthError', status: 400, error: 'login_required' });
  });
});

describe('OAuth error classes at the edges', () => {
  const thrown = new Map<string, OAuthError>([
    ['/invalid-client', new InvalidClient('who?', { 'WWW-Authenticate': 'Basic realm="x"' })],
    ['/unavailable', new TemporarilyUnavailable('later', 2)],
    ['/too-large', new InvalidRequest('smaller', 413)],
    ['/metadata', new InvalidClientMetadata('no')],
  ]);
  const servers: { close(): void }[] = [];
  const bases: Record<'oauth' | 'okta', string> = { oauth: '', okta: '' };
  beforeAll(async () => {
    for (const [edge, middleware] of [
      ['oauth', oauthErrors(() => {})],
      ['okta', oktaErrors(() => {})],
    ] as const) {
      const app = new Koa();
      app.use(middleware);
      app.use((ctx) => {
        throw thrown.get(ctx.path);
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      servers.push(server);
      bases[edge] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  for (const edge of ['oauth', 'okta'] as const)
    it(`${edge === 'oauth' ? 'oauthErrors' : 'oktaErrors'} answers each with its status, headers and {error, error_description}`, async () => {
      for (const [path, error] of thrown) {
        const response = await fetch(`${bases[edge]}${path}`);
        expect(response.status).toBe(error.status);
        for (const [name, value] of Object.entries(error.headers))
          expect(response.headers.get(name)).toBe(value);
        expect(await response.json()).toEqual({
          error: error.error,
          error_description: error.description,
        });
        if (edge === 'oauth') expect(response.headers.get('cache-control')).toBe('no-store');
      }
    });
});
