// private_key_jwt and client_secret_jwt (RFC 7523, OpenID Connect Core section 9) at /token,
// /introspect and /revoke, on both stacks: openid-client v6 as the real client with RS256, PS256 and
// ES256 keys registered inline or at a jwks_uri, and with HS256 keyed by the client secret, and the refusals of RFC 7523's and RFC 7521's security considerations —
// a replayed assertion (at another replica too), the wrong audience, expired or too long-lived
// assertions, foreign keys and clients, another method than the one registered.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestStack } from '@gatehouse/test-stacks';
import { customScopeCreated } from '@gatehouse/test-stacks';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenService } from '../app.js';
import { basic, startToken, tenancy } from './token-harness.js';

const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
type Alg = 'RS256' | 'PS256' | 'ES256';

async function keyPair(alg: Alg, kid = randomUUID()) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, jwk, kid, alg };
}
type KeyPair = Awaited<ReturnType<typeof keyPair>>;

/** A client's own JWK set server on loopback, counting how often it is fetched. */
async function jwksServer(cleanups: (() => Promise<void>)[]) {
  const state = {
    keys: [] as JWK[],
    fetches: 0,
    /** What the next answers are instead of the set. */
    answer: 'set' as 'set' | '500' | 'huge' | 'slow',
  };
  const server: Server = createServer((_req, res) => {
    state.fetches += 1;
    if (state.answer === '500') return void res.writeHead(500).end('{}');
    if (state.answer === 'slow') return void setTimeout(() => res.end('{"keys":[]}'), 5_000);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (state.answer === 'huge') return void res.end(`{"keys":[],"pad":"${'x'.repeat(70_000)}"}`);
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { state, uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks` };
}

export function describeClientAssertions(stack: TestStack): void {
  describe(`JWT client authentication (private_key_jwt, client_secret_jwt): ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async (options: { now?: () => number } = {}) => {
      const harness = await startToken(stack, cleanups, options);
      const tenant = await harness.newTenant();
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read', {
          isDefault: true,
          published: true,
          description: 'Read orders',
        }),
      ]);
      const issuer = `http://localhost:9000/${tenant}/oauth2/default`;
      const path = (endpoint: string) => `/${tenant}/oauth2/default/v1/${endpoint}`;
      /** A service app authenticating with private_key_jwt, its keys inline or at a jwks_uri. */
      const newKeyClient = async (keys: { jwks: JWK[] } | { jwksUri: string }) => {
        const { clientId } = await harness.newClient(tenant, {
          client_name: 'Signer',
          application_type: 'service',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          ...('jwks' in keys ? { jwks: { keys: keys.jwks } } : { jwks_uri: keys.jwksUri }),
        });
        return clientId;
      };
      /** openid-client configured for this server's three endpoints, as `clientId` with `auth`. */
      const configWith = (
        clientId: string,
        auth: oidc.ClientAuth,
        metadata: Partial<oidc.ClientMetadata> = {},
      ) => {
        const configuration = new oidc.Configuration(
          {
            issuer,
            token_endpoint: `${harness.base}${path('token')}`,
            introspection_endpoint: `${harness.base}${path('introspect')}`,
            revocation_endpoint: `${harness.base}${path('revoke')}`,
          },
          clientId,
          metadata,
          auth,
        );
        oidc.allowInsecureRequests(configuration);
        return configuration;
      };
      const config = (clientId: string, key: KeyPair) =>
        configWith(clientId, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
          token_endpoint_auth_signing_alg: key.alg,
        });
      /** An assertion as a client would make it, with `claims` over the right ones. */
      const assertion = (
        clientId: string,
        key: KeyPair,
        claims: Record<string, unknown> = {},
        header: Record<string, unknown> = {},
      ) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({
          iss: clientId,
          sub: clientId,
          aud: issuer,
          jti: randomUUID(),
          iat: now,
          exp: now + 60,
          ...claims,
        })
          .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
          .sign(key.privateKey);
      };
      /** A client_secret_jwt assertion: HS256 keyed by `secret`. */
      const hmacAssertion = (clientId: string, secret: string) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(issuer)
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .sign(new TextEncoder().encode(secret));
      };
      const tokenWith = (
        jwt: string,
        extra: {
          form?: Record<string, string>;
          headers?: Record<string, string>;
          base?: string;
        } = {},
      ) =>
        fetch(`${extra.base ?? harness.base}${path('token')}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra.headers },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_assertion_type: assertionType,
            client_assertion: jwt,
            ...extra.form,
          }).toString(),
        }).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as Record<string, string>,
        }));
      return {
        ...harness,
        tenant,
        issuer,
        path,
        newKeyClient,
        configWith,
        config,
        assertion,
        hmacAssertion,
        tokenWith,
      };
    };

    it.each(['RS256', 'PS256', 'ES256'] as const)(
      'serves openid-client with a %s key registered inline: client credentials, introspection, revocation',
      async (alg) => {
        const { newKeyClient, config } = await setup();
        const key = await keyPair(alg);
        const clientId = await newKeyClient({ jwks: [key.jwk] });
        const client = config(clientId, key);
        const token = await oidc.clientCredentialsGrant(client, { scope: 'orders.read' });
        expect([token.token_type, token.scope]).toEqual(['bearer', 'orders.read']);
        const introspected = await oidc.tokenIntrospection(client, token.access_token);
        expect([introspected.active, introspected.client_id]).toEqual([true, clientId]);
        await oidc.tokenRevocation(client, token.access_token);
        expect((await oidc.tokenIntrospection(client, token.access_token)).active).toBe(false);
      },
    );

    it("fetches a jwks_uri once, keeps it, and fetches it again when the client's key is new to it", async () => {
      // The service's clock, moved past the cooldown between fetches when the test needs it.
      const clock = { offset: 0 };
      const { newKeyClient, config } = await setup({ now: () => Date.now() + clock.offset });
      const jwks = await jwksServer(cleanups);
      const first = await keyPair('ES256');
      jwks.state.keys = [first.jwk];
      const clientId = await newKeyClient({ jwksUri: jwks.uri });
      for (let i = 0; i < 3; i += 1)
        await oidc.clientCredentialsGrant(config(clientId, first), { scope: 'orders.read' });
      expect(jwks.state.fetches).toBe(1);
      // The client rotates: a new key, with a kid the kept set lacks. Right after a fetch it is
      // refused (no fetch storm from unknown kids); past the cooldown the set is fetched again.
      const second = await keyPair('RS256');
      jwks.state.keys = [second.jwk];
      await expect(
        oidc.clientCredentialsGrant(config(clientId, second), { scope: 'orders.read' }),
      ).rejects.toMatchObject({ error: 'invalid_client' });
      expect(jwks.state.fetches).toBe(1);
      clock.offset = 31_000;
      await oidc.clientCredentialsGrant(config(clientId, second), { scope: 'orders.read' });
      expect(jwks.state.fetches).toBe(2);
      // Within the cooldown, an unknown kid does not make it fetch again (no fetch storm).
      const stranger = await keyPair('RS256');
      await expect(
        oidc.clientCredentialsGrant(config(clientId, stranger), { scope: 'orders.read' }),
      ).rejects.toMatchObject({ error: 'invalid_client' });
      expect(jwks.state.fetches).toBe(2);
    });

    it('refuses a jwks_uri that fails, answers too much or too late, cleanly (401 invalid_client)', async () => {
      const { newKeyClient, assertion, tokenWith } = await setup();
      const key = await keyPair('RS256');
      for (const answer of ['500', 'huge', 'slow'] as const) {
        const jwks = await jwksServer(cleanups);
        jwks.state.answer = answer;
        const clientId = await newKeyClient({ jwksUri: jwks.uri });
        const response = await tokenWith(await assertion(clientId, key));
        expect([answer, response.status, response.body.error]).toEqual([
          answer,
          401,
          'invalid_client',
        ]);
        expect(response.body.error_description).toMatch(/jwks_uri cannot be used/);
      }
    }, 20_000);

    it('takes an assertion once, at any replica: a replay is refused', async () => {
      const { newKeyClient, assertion, tokenWith, bus, store, ring, keks } = await setup();
      const key = await keyPair('ES256');
      const clientId = await newKeyClient({ jwks: [key.jwk] });
      // A second replica of the token service on the same log and store.
      const replica = createTokenService({
        bus,
        store,
        ring,
        keks,
        tenancy,
        jwksUriHttpLoopback: true,
      });
      await replica.start();
      cleanups.push(() => replica.stop());
      const server = replica.app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      const replicaBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const jwt = await assertion(clientId, key);
      expect((await tokenWith(jwt)).status).toBe(200);
      for (const base of [undefined, replicaBase]) {
        const replayed = await tokenWith(jwt, base ? { base } : {});
        expect([replayed.status, replayed.body]).toEqual([
          401,
          {
            error: 'invalid_client',
            error_description: 'The client_assertion has already been used.',
          },
        ]);
      }
    });

    it("accepts as aud the issuer or the URL of the endpoint (Okta's SDKs), and nothing else", async () => {
      const { newKeyClient, assertion, tokenWith, base, path, issuer, post } = await setup();
      const key = await keyPair('RS256');
      const clientId = await newKeyClient({ jwks: [key.jwk] });
      const tokenUrl = `${issuer}/v1/token`;
      expect((await tokenWith(await assertion(clientId, key, { aud: tokenUrl }))).status).toBe(200);
      expect(
        (await tokenWith(await assertion(clientId, key, { aud: [tokenUrl, 'https://x.test'] })))
          .status,
      ).toBe(200);
      const introspectUrl = `${issuer}/v1/introspect`;
      const introspected = await post(path('introspect'), {
        token: 'not-a-token',
        client_assertion_type: assertionType,
        client_assertion: await assertion(clientId, key, { aud: introspectUrl }),
      });
      expect([introspected.status, introspected.body]).toEqual([200, { active: false }]);
      for (const aud of [
        `${issuer}/v1/revoke`,
        'http://localhost:9000/other/oauth2/default',
        `${base}${path('token')}`,
        issuer.replace('default', 'other'),
      ]) {
        const refused = await tokenWith(await assertion(clientId, key, { aud }));
        expect([aud, refused.status, refused.body.error]).toEqual([aud, 401, 'invalid_client']);
        expect(refused.body.error_description).toMatch(/aud claim is invalid/);
      }
    });

    it('refuses expired, long-lived, unsigned, foreign and malformed assertions, each saying why', async () => {
      const { newKeyClient, assertion, tokenWith, newClient, tenant } = await setup();
      const key = await keyPair('RS256');
      const clientId = await newKeyClient({ jwks: [key.jwk] });
      const now = Math.floor(Date.now() / 1000);
      const stranger = await keyPair('RS256', key.kid);
      const other = await newKeyClient({ jwks: [(await keyPair('RS256')).jwk] });
      const secretClient = await newClient(tenant, {
        client_name: 'Secret',
        application_type: 'service',
        grant_types: ['client_credentials'],
      });
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ iss: clientId, sub: clientId, exp: now + 60, jti: 'x' }),
      ).toString('base64url')}.`;
      const cases: [string, Promise<string> | string, RegExp][] = [
        ['expired', assertion(clientId, key, { exp: now - 120, iat: now - 180 }), /expired/],
        ['exp an hour and more away', assertion(clientId, key, { exp: now + 7200 }), /too far/],
        ['no exp', assertion(clientId, key, { exp: undefined }), /exp/],
        ['no jti', assertion(clientId, key, { jti: undefined }), /jti/],
        ['not yet valid', assertion(clientId, key, { nbf: now + 600 }), /nbf/],
        ['sub not the client', assertion(clientId, key, { sub: other }), /iss and sub/],
        ['signed by another key', assertion(clientId, stranger), /signature is invalid/],
        ["another client's name", assertion(other, key), /signature is invalid|No key/],
        ['alg none', unsigned, /an algorithm its client's method does not allow|not a valid JWT/],
        ['not a JWT', 'abc.def', /not a valid JWT/],
        [
          'a client with a secret',
          assertion(secretClient.clientId, key),
          /Client authentication failed/,
        ],
        ['an unknown client', assertion('0oanobody', key), /Client authentication failed/],
      ];
      for (const [name, jwt, why] of cases) {
        const response = await tokenWith(await jwt);
        expect([name, response.status, response.body.error]).toEqual([name, 401, 'invalid_client']);
        expect(response.body.error_description, name).toMatch(why);
      }
    });

    it('takes one mechanism per request, the one the client registered', async () => {
      const { newKeyClient, assertion, tokenWith, post, path, appendDirectory, tenant, caughtUp } =
        await setup();
      const key = await keyPair('ES256');
      const clientId = await newKeyClient({ jwks: [key.jwk] });
      const both = await tokenWith(await assertion(clientId, key), {
        headers: { authorization: basic(clientId, 'secret') },
      });
      expect([both.status, both.body.error]).toEqual([400, 'invalid_request']);
      const wrongType = await post(path('token'), {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        client_assertion: await assertion(clientId, key),
      });
      expect([wrongType.status, wrongType.body.error]).toEqual([401, 'invalid_client']);
      const half = await post(path('token'), {
        grant_type: 'client_credentials',
        client_assertion: await assertion(clientId, key),
      });
      expect([half.status, half.body.error]).toEqual([400, 'invalid_request']);
      const otherId = await tokenWith(await assertion(clientId, key), {
        form: { client_id: 'someone' },
      });
      expect([otherId.status, otherId.body.error]).toEqual([400, 'invalid_request']);
      // A private_key_jwt client has no secret to show, and a public client's way is not its own.
      const asPublic = await post(path('token'), {
        grant_type: 'client_credentials',
        client_id: clientId,
      });
      expect([asPublic.status, asPublic.body.error]).toEqual([401, 'invalid_client']);
      // Deactivated: its assertions are refused as every credential of it.
      await appendDirectory(tenant, [
        {
          aggregateId: clientId,
          event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
          version: 2,
        },
      ]);
      await caughtUp();
      await vi.waitFor(
        async () => {
          const deactivated = await tokenWith(await assertion(clientId, key));
          expect([deactivated.status, deactivated.body.error]).toEqual([401, 'invalid_client']);
        },
        { timeout: 10_000, interval: 50 },
      );
    });

    it("serves openid-client's ClientSecretJwt (HS256 keyed by the client secret), and refuses what is not that", async () => {
      const { newClient, tenant, path, configWith, assertion, hmacAssertion, tokenWith, post } =
        await setup();
      const { clientId, clientSecret } = await newClient(tenant, {
        client_name: 'HMAC signer',
        application_type: 'service',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_jwt',
      });
      const configuration = configWith(clientId, oidc.ClientSecretJwt(clientSecret!));
      const token = await oidc.clientCredentialsGrant(configuration, { scope: 'orders.read' });
      expect((await oidc.tokenIntrospection(configuration, token.access_token)).active).toBe(true);
      await oidc.tokenRevocation(configuration, token.access_token);
      expect((await oidc.tokenIntrospection(configuration, token.access_token)).active).toBe(false);
      const once = await hmacAssertion(clientId, clientSecret!);
      expect((await tokenWith(once)).status).toBe(200);
      const replayed = await tokenWith(once);
      expect([replayed.status, replayed.body.error_description]).toEqual([
        401,
        'The client_assertion has already been used.',
      ]);
      const wrongSecret = await tokenWith(await hmacAssertion(clientId, `${clientSecret}x`));
      expect([wrongSecret.status, wrongSecret.body.error_description]).toEqual([
        401,
        'The client_assertion signature is invalid.',
      ]);
      // A key pair's signature is not what this client registered.
      const rsa = await tokenWith(await assertion(clientId, await keyPair('RS256')));
      expect([rsa.status, rsa.body.error]).toEqual([401, 'invalid_client']);
      expect(rsa.body.error_description).toMatch(/client_secret_jwt: HS256/);
      // Its secret never travels: Basic and the post body are refused.
      const asBasic = await post(
        path('token'),
        { grant_type: 'client_credentials' },
        { authorization: basic(clientId, clientSecret!) },
      );
      expect([asBasic.status, asBasic.body.error]).toEqual([401, 'invalid_client']);
      // And a client_secret_basic client cannot sign with its secret instead.
      const basicClient = await newClient(tenant, {
        client_name: 'Basic',
        application_type: 'service',
        grant_types: ['client_credentials'],
      });
      const signedByBasic = await hmacAssertion(basicClient.clientId, basicClient.clientSecret!);
      const refused = await tokenWith(signedByBasic);
      expect([refused.status, refused.body.error_description]).toEqual([
        401,
        'Client authentication failed. Either the client or the client credentials are invalid.',
      ]);
    });

    it('refuses client_secret_jwt for a client whose secret was kept only as a digest, saying to make a new one', async () => {
      const { appendDirectory, caughtUp, tenant, tokenWith, hmacAssertion } = await setup();
      // Registered as before secrets were sealed: the event has the digest only.
      const clientId = `0oa${randomUUID().replaceAll('-', '').slice(0, 17)}`;
      const secret = 'an-old-secret-kept-only-as-its-digest';
      await appendDirectory(tenant, [
        {
          aggregateId: clientId,
          event: {
            type: 'gatehouse.events.v1.ClientRegistered',
            data: {
              metadata: {
                clientName: 'Old',
                redirectUris: [],
                postLogoutRedirectUris: [],
                responseTypes: [],
                grantTypes: ['client_credentials'],
                tokenEndpointAuthMethod: 'client_secret_jwt',
                applicationType: 'service',
                consentMethod: 'TRUSTED',
                jwks: '',
                jwksUri: '',
                requirePushedAuthorizationRequests: false,
                dpopBoundAccessTokens: false,
              },
              clientSecretSha256: createHash('sha256').update(secret).digest('hex'),
            },
          },
          version: 1,
        },
      ]);
      await caughtUp();
      const jwt = await hmacAssertion(clientId, secret);
      const response = await tokenWith(jwt);
      expect([response.status, response.body.error_description]).toEqual([
        401,
        'The client has no secret kept for client_secret_jwt: generate a new client secret.',
      ]);
    });
  });
}
