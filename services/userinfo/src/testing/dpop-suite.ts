// DPoP (RFC 9449) end to end on both stacks: openid-client v6's DPoP handle against the token
// service (code exchange, refresh, client credentials, introspection) and the userinfo service, and
// the refusals of RFC 9449's security considerations — replayed proofs (at another replica too),
// the wrong htm, htu, key or access token hash, stale proofs and nonces, a bound token sent as
// Bearer (the downgrade), a public client's bound refresh token used without its key.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { listenOnLoopback, startTokenService } from '@gatehouse/test-services';
import {
  customScopeCreated,
  directoryFixtures,
  startOAuthBackbone,
  type TestStack,
  testTenancy,
} from '@gatehouse/test-stacks';
import {
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createUserinfoService } from '../app.js';

const tenancy = testTenancy;
const redirectUri = 'https://app.example.com/cb';
const publicOrigin = 'http://localhost:9000';
type Alg = 'ES256' | 'RS256' | 'PS256';

const dpopKey = async (alg: Alg = 'ES256') => {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { ...pair, alg, jwk, jkt: await calculateJwkThumbprint(jwk) };
};
type DpopKey = Awaited<ReturnType<typeof dpopKey>>;

/** A proof as a client makes one, with `claims` over the right ones. */
const proofOf = (key: DpopKey, htm: string, htu: string, claims: JWTPayload = {}) =>
  new SignJWT({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk })
    .sign(key.privateKey);

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

export function describeDpop(stack: TestStack): void {
  describe(`DPoP (RFC 9449): ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      const { bus, store, ring, keks, log } = await startOAuthBackbone(stack, cleanups);
      const deps = { bus, store, ring, keks, tenancy, log };
      const { base: tokenBase } = await startTokenService(deps, cleanups);
      // A second token replica: the replay cache and the nonces are shared.
      const { base: otherTokenBase } = await startTokenService(deps, cleanups);
      const userinfo = createUserinfoService({ bus, store, ring, tenancy, log });
      await userinfo.start();
      cleanups.push(() => userinfo.stop());
      const userinfoBase = await listenOnLoopback(userinfo.app, cleanups);
      const fixtures = directoryFixtures({ bus, store, keks });
      const tenant = await fixtures.newTenant();
      await fixtures.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', { isDefault: true, published: true }),
      ]);
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await fixtures.newUser(tenant, login);
      const issuer = `${publicOrigin}/${tenant}/oauth2/default`;
      const endpoint = (name: string) => `${issuer}/v1/${name}`;
      /** Where a public URL is served here (the edge's part): userinfo, or the token service. */
      const local = (url: string, tokenAt = tokenBase) =>
        url.replace(publicOrigin, url.includes('/v1/userinfo') ? userinfoBase : tokenAt);

      /** openid-client for a client of this server, its requests sent to the services here. */
      const configFor = (client: { clientId: string; clientSecret?: string | undefined }) => {
        const config = new oidc.Configuration(
          {
            issuer,
            token_endpoint: endpoint('token'),
            introspection_endpoint: endpoint('introspect'),
            revocation_endpoint: endpoint('revoke'),
            userinfo_endpoint: endpoint('userinfo'),
          },
          client.clientId,
          {},
          client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(),
        );
        oidc.allowInsecureRequests(config);
        config[oidc.customFetch] = (url, options) => fetch(local(url), options as RequestInit);
        return config;
      };
      const webClient = async (metadata: Record<string, unknown> = {}) => {
        const client = await fixtures.newClient(tenant, {
          client_name: 'Web',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          ...metadata,
        });
        await fixtures.assign(tenant, client.clientId, { userId });
        return client;
      };
      const nativeClient = async () => {
        const client = await fixtures.newClient(tenant, {
          client_name: 'Native',
          application_type: 'native',
          redirect_uris: ['com.example.app:/cb'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        });
        await fixtures.assign(tenant, client.clientId, { userId });
        return client;
      };
      const serviceClient = (metadata: Record<string, unknown> = {}) =>
        fixtures.newClient(tenant, {
          client_name: 'Job',
          application_type: 'service',
          grant_types: ['client_credentials'],
          response_types: ['token'],
          ...metadata,
        });
      /** A code for the user, as /authorize issues it; with PKCE for a public client. */
      const callbackWithCode = async (
        clientId: string,
        options: { redirect?: string; verifier?: string; scopes?: string[] } = {},
      ) => {
        const redirect = options.redirect ?? redirectUri;
        const { code } = await fixtures.issueCode(
          tenant,
          {
            clientId,
            userId,
            redirectUri: redirect,
            scopes: options.scopes ?? ['profile', 'email', 'offline_access'],
          },
          options.verifier,
        );
        return new URL(`${redirect}?code=${code}`);
      };
      /** A raw token request, as openid-client would make it (Basic auth), with a DPoP header. */
      const tokenRequest = async (
        client: { clientId: string; clientSecret?: string | undefined },
        form: Record<string, string>,
        dpop?: string,
        tokenAt = tokenBase,
      ) => {
        const response = await fetch(local(endpoint('token'), tokenAt), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(client.clientSecret
              ? {
                  authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
                }
              : {}),
            ...(dpop ? { dpop } : {}),
          },
          body: new URLSearchParams({
            ...(client.clientSecret ? {} : { client_id: client.clientId }),
            ...form,
          }),
        });
        return {
          status: response.status,
          nonce: response.headers.get('dpop-nonce'),
          body: (await response.json()) as Record<string, string>,
        };
      };
      /** A nonce of the token endpoint, as its first answer to a proof without one gives it. */
      const nonce = async (client: { clientId: string; clientSecret?: string | undefined }) => {
        const key = await dpopKey();
        const first = await tokenRequest(
          client,
          { grant_type: 'client_credentials' },
          await proofOf(key, 'POST', endpoint('token')),
        );
        expect(first.status).toBe(400);
        return first.nonce!;
      };
      const userinfoRequest = (authorization: string, dpop?: string, init: RequestInit = {}) =>
        fetch(local(endpoint('userinfo')), {
          ...init,
          headers: {
            authorization,
            ...(dpop ? { dpop } : {}),
            ...(init.headers as Record<string, string> | undefined),
          },
        });
      return {
        ...fixtures,
        tenant,
        userId,
        issuer,
        endpoint,
        tokenBase,
        otherTokenBase,
        configFor,
        webClient,
        nativeClient,
        serviceClient,
        callbackWithCode,
        tokenRequest,
        nonce,
        userinfoRequest,
      };
    };

    it("binds openid-client's tokens to its key: the code exchange (after the server's nonce), userinfo as DPoP, introspection", async () => {
      const { configFor, webClient, callbackWithCode, userId } = await setup();
      const web = await webClient();
      const config = configFor(web);
      const key = await dpopKey('ES256');
      const DPoP = oidc.getDPoPHandle(config, key);
      const tokens = await oidc.authorizationCodeGrant(
        config,
        await callbackWithCode(web.clientId),
        {},
        undefined,
        { DPoP },
      );
      expect(tokens.token_type).toBe('dpop');
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
      const claims = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck, {
        DPoP,
      });
      expect(claims.sub).toBe(userId);
      const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
      expect(introspected).toMatchObject({
        active: true,
        token_type: 'DPoP',
        cnf: { jkt: key.jkt },
      });
      // A confidential client's refresh token is its client authentication's: not bound. The
      // access tokens it gets are bound to the key of the refresh request's proof, or are Bearer.
      const bearer = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(bearer.token_type).toBe('bearer');
      expect(decodeJwt(bearer.access_token).cnf).toBeUndefined();
      const other = await dpopKey('PS256');
      const rebound = await oidc.refreshTokenGrant(config, bearer.refresh_token!, undefined, {
        DPoP: oidc.getDPoPHandle(config, other),
      });
      expect(decodeJwt(rebound.access_token).cnf).toEqual({ jkt: other.jkt });
    });

    it.each(['ES256', 'RS256', 'PS256'] as const)(
      'takes %s proofs: client credentials bound to the key, introspected as DPoP',
      async (alg) => {
        const { configFor, serviceClient } = await setup();
        const job = await serviceClient();
        const config = configFor(job);
        const key = await dpopKey(alg);
        const tokens = await oidc.clientCredentialsGrant(
          config,
          { scope: 'orders.read' },
          { DPoP: oidc.getDPoPHandle(config, key) },
        );
        expect(tokens.token_type).toBe('dpop');
        expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
        expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({
          active: true,
          token_type: 'DPoP',
          cnf: { jkt: key.jkt },
        });
      },
    );

    it('refuses at /token: no nonce, a forged nonce, a replayed proof (at another replica too), the wrong htm, htu or iat, a foreign signature', async () => {
      const { serviceClient, tokenRequest, nonce, endpoint, otherTokenBase } = await setup();
      const job = await serviceClient();
      const key = await dpopKey();
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const htu = endpoint('token');

      const without = await tokenRequest(job, form, await proofOf(key, 'POST', htu));
      expect([without.status, without.body]).toEqual([
        400,
        {
          error: 'use_dpop_nonce',
          error_description: 'Authorization server requires nonce in DPoP proof.',
        },
      ]);
      expect(without.nonce).toMatch(/\S/);
      const forged = await tokenRequest(
        job,
        form,
        await proofOf(key, 'POST', htu, { nonce: 'x.AAAAAAAAAAAAAAAAAAAAAA' }),
      );
      expect([forged.status, forged.body.error]).toEqual([400, 'use_dpop_nonce']);

      const given = await nonce(job);
      const proof = await proofOf(key, 'POST', htu, { nonce: given });
      const first = await tokenRequest(job, form, proof);
      expect([first.status, first.body.token_type]).toEqual([200, 'DPoP']);
      expect(first.nonce).toBe(given);
      for (const at of [undefined, otherTokenBase]) {
        const replayed = await tokenRequest(job, form, proof, at);
        expect([replayed.status, replayed.body]).toEqual([
          400,
          {
            error: 'invalid_dpop_proof',
            error_description: 'The DPoP proof has already been used.',
          },
        ]);
      }
      // The other replica takes this replica's nonces.
      const elsewhere = await tokenRequest(
        job,
        form,
        await proofOf(key, 'POST', htu, { nonce: given }),
        otherTokenBase,
      );
      expect(elsewhere.status).toBe(200);

      const other = await dpopKey();
      const refusals: [string, Promise<string>][] = [
        ['htm claim must be POST', proofOf(key, 'GET', htu, { nonce: given })],
        ['htu claim must be', proofOf(key, 'POST', endpoint('introspect'), { nonce: given })],
        [
          'htu claim must be',
          proofOf(key, 'POST', htu.replace('localhost:9000', 'evil.example'), { nonce: given }),
        ],
        [
          'iat must be within 60 seconds',
          proofOf(key, 'POST', htu, { nonce: given, iat: Math.floor(Date.now() / 1000) - 120 }),
        ],
        [
          'signature does not verify',
          new SignJWT({
            htm: 'POST',
            htu,
            iat: Math.floor(Date.now() / 1000),
            jti: randomUUID(),
            nonce: given,
          })
            .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
            .sign(other.privateKey),
        ],
      ];
      for (const [message, made] of refusals) {
        const refused = await tokenRequest(job, form, await made);
        expect(refused.status, message).toBe(400);
        expect(refused.body.error).toBe('invalid_dpop_proof');
        expect(refused.body.error_description).toContain(message);
      }
    });

    it('requires a proof of a client registered with dpop_bound_access_tokens', async () => {
      const { serviceClient, tokenRequest, nonce, endpoint } = await setup();
      const job = await serviceClient({ dpop_bound_access_tokens: true });
      const form = { grant_type: 'client_credentials', scope: 'orders.read' };
      const missing = await tokenRequest(job, form);
      expect([missing.status, missing.body]).toEqual([
        400,
        {
          error: 'invalid_dpop_proof',
          error_description: 'The DPoP proof JWT header is missing.',
        },
      ]);
      const key = await dpopKey();
      const bound = await tokenRequest(
        job,
        form,
        await proofOf(key, 'POST', endpoint('token'), { nonce: await nonce(job) }),
      );
      expect([bound.status, bound.body.token_type]).toEqual([200, 'DPoP']);
    });

    it('refuses at userinfo: a bound token as Bearer (the downgrade), no proof, another key, the wrong ath, a replayed proof, an unbound token as DPoP', async () => {
      const { configFor, webClient, callbackWithCode, userinfoRequest, endpoint } = await setup();
      const web = await webClient();
      const config = configFor(web);
      const key = await dpopKey();
      const tokens = await oidc.authorizationCodeGrant(
        config,
        await callbackWithCode(web.clientId),
        {},
        undefined,
        { DPoP: oidc.getDPoPHandle(config, key) },
      );
      const token = tokens.access_token;
      const htu = endpoint('userinfo');
      const challenge = (response: Response) => response.headers.get('www-authenticate') ?? '';

      const asBearer = await userinfoRequest(`Bearer ${token}`);
      expect(asBearer.status).toBe(401);
      expect(challenge(asBearer)).toMatch(/^Bearer error="invalid_token"/);
      const inForm = await userinfoRequest('', undefined, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      expect(inForm.status).toBe(401);

      const refusals: [string, string | undefined][] = [
        ['The DPoP proof JWT header is missing.', undefined],
        [
          'not made with the key the access token is bound to',
          await proofOf(await dpopKey(), 'GET', htu, { ath: ath(token) }),
        ],
        ['not the hash of this access token', await proofOf(key, 'GET', htu, { ath: ath('x') })],
        ['must have an ath claim', await proofOf(key, 'GET', htu)],
        ['htm claim must be GET', await proofOf(key, 'POST', htu, { ath: ath(token) })],
      ];
      for (const [message, proof] of refusals) {
        const refused = await userinfoRequest(`DPoP ${token}`, proof);
        expect(refused.status, message).toBe(401);
        expect(challenge(refused)).toMatch(/^DPoP error="invalid_dpop_proof"/);
        expect(challenge(refused)).toContain('algs="RS256 PS256 ES256"');
        expect(
          ((await refused.json()) as { error_description: string }).error_description,
        ).toContain(message);
      }
      const proof = await proofOf(key, 'GET', htu, { ath: ath(token) });
      expect((await userinfoRequest(`DPoP ${token}`, proof)).status).toBe(200);
      const replayed = await userinfoRequest(`DPoP ${token}`, proof);
      expect(replayed.status).toBe(401);
      expect(((await replayed.json()) as { error_description: string }).error_description).toBe(
        'The DPoP proof has already been used.',
      );

      const unbound = await oidc.authorizationCodeGrant(
        config,
        await callbackWithCode(web.clientId),
      );
      const asDpop = await userinfoRequest(
        `DPoP ${unbound.access_token}`,
        await proofOf(key, 'GET', htu, { ath: ath(unbound.access_token) }),
      );
      expect(asDpop.status).toBe(401);
      expect(challenge(asDpop)).toMatch(/^DPoP error="invalid_token"/);
    });

    it("binds a public client's refresh tokens to its key: refreshed with it, refused without it or with another, the family kept", async () => {
      const { configFor, nativeClient, callbackWithCode, tokenRequest, nonce, endpoint } =
        await setup();
      const app = await nativeClient();
      const config = configFor(app);
      const key = await dpopKey();
      const DPoP = oidc.getDPoPHandle(config, key);
      const verifier = oidc.randomPKCECodeVerifier();
      const tokens = await oidc.authorizationCodeGrant(
        config,
        await callbackWithCode(app.clientId, { redirect: 'com.example.app:/cb', verifier }),
        { pkceCodeVerifier: verifier },
        undefined,
        { DPoP },
      );
      expect(tokens.token_type).toBe('dpop');
      const refresh = tokens.refresh_token!;
      const given = await nonce(app);
      const form = { grant_type: 'refresh_token', refresh_token: refresh };

      const without = await tokenRequest(app, form);
      expect([without.status, without.body.error]).toEqual([400, 'invalid_dpop_proof']);
      expect(without.body.error_description).toContain('bound to a DPoP key');
      const other = await tokenRequest(
        app,
        form,
        await proofOf(await dpopKey(), 'POST', endpoint('token'), { nonce: given }),
      );
      expect([other.status, other.body]).toEqual([
        400,
        {
          error: 'invalid_grant',
          error_description:
            'The DPoP proof was not made with the key the refresh token is bound to.',
        },
      ]);
      // Neither refusal spent the token nor revoked its family: its holder refreshes.
      const rotated = await oidc.refreshTokenGrant(config, refresh, undefined, { DPoP });
      expect(decodeJwt(rotated.access_token).cnf).toEqual({ jkt: key.jkt });
      // The new refresh token is bound to the same key.
      const next = await tokenRequest(app, {
        grant_type: 'refresh_token',
        refresh_token: rotated.refresh_token!,
      });
      expect(next.body.error).toBe('invalid_dpop_proof');
      const introspected = await oidc.tokenIntrospection(config, rotated.refresh_token!);
      expect(introspected).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
    });
  });
}
