// Token exchange (RFC 8693) on both stacks, driven by openid-client v6's generic grant request:
// Okta's on-behalf-of exchange (a service exchanging a user's access token of one custom server for
// one of another, or of the same), which dies with the token it was exchanged for; and OpenID Connect
// Native SSO (a native app's device secret and ID token exchanged by a second native app for its own
// tokens), which dies with the first app's session, client and user. With the refusals of RFC 8693's
// security considerations: foreign, expired, revoked and re-exchanged tokens, the wrong audience, the
// wrong token types, clients that may not exchange.
import { createHash, randomBytes } from 'node:crypto';
import { customScopeCreated, type TestStack } from '@gatehouse/test-stacks';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, startToken } from './token-harness.js';

const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
const idTokenType = 'urn:ietf:params:oauth:token-type:id_token';
const deviceSecretType = 'urn:x-oath:params:oauth:token-type:device-secret';
const redirectUri = 'https://app.example.com/cb';
const nativeRedirect = 'com.example.app:/cb';

export function describeTokenExchange(stack: TestStack): void {
  describe(`token exchange (RFC 8693): on-behalf-of and Native SSO: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async () => {
      const harness = await startToken(stack, cleanups);
      const tenant = await harness.newTenant();
      // The user's app signs in at `default`; the API behind it exchanges at `inventory`.
      const inventory = await harness.newServer(tenant, 'api://inventory');
      await harness.appendDirectory(tenant, [
        customScopeCreated('default', 'orders.read'),
        customScopeCreated(inventory, 'inventory.read', { isDefault: true }),
        customScopeCreated(inventory, 'inventory.write'),
      ]);
      await harness.caughtUp();
      const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const userId = await harness.newUser(tenant, login);
      const web = await harness.newClient(tenant, {
        client_name: 'Web',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      });
      await harness.assign(tenant, web.clientId, { userId });
      const api = await harness.newClient(tenant, {
        client_name: 'Orders API',
        application_type: 'service',
        grant_types: ['client_credentials', tokenExchange],
        response_types: ['token'],
      });
      const path = (server: string, endpoint: string) =>
        server === 'org'
          ? `/${tenant}/oauth2/v1/${endpoint}`
          : `/${tenant}/oauth2/${server}/v1/${endpoint}`;
      const issuerOf = (server: string) =>
        server === 'org'
          ? `http://localhost:9000/${tenant}`
          : `http://localhost:9000/${tenant}/oauth2/${server}`;
      /** openid-client for a client at `server`, its requests to the token service here. */
      const configFor = (
        client: { clientId: string; clientSecret?: string | undefined },
        server: string,
      ) => {
        const config = new oidc.Configuration(
          {
            issuer: issuerOf(server),
            token_endpoint: `${harness.base}${path(server, 'token')}`,
            introspection_endpoint: `${harness.base}${path(server, 'introspect')}`,
            revocation_endpoint: `${harness.base}${path(server, 'revoke')}`,
          },
          client.clientId,
          {},
          client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(),
        );
        oidc.allowInsecureRequests(config);
        return config;
      };
      /** The user's tokens of `client` at `server`, through a code exchange. */
      const signIn = async (
        client: { clientId: string; clientSecret?: string | undefined },
        options: { server?: string; scopes?: string[]; redirect?: string } = {},
      ) => {
        const server = options.server ?? 'default';
        const verifier = randomBytes(32).toString('base64url');
        const redirect = options.redirect ?? redirectUri;
        const { code } = await harness.issueCode(
          tenant,
          {
            clientId: client.clientId,
            userId,
            redirectUri: redirect,
            scopes: options.scopes ?? ['openid', 'profile', 'orders.read', 'offline_access'],
            serverId: server,
          },
          verifier,
        );
        const response = await harness.post(
          path(server, 'token'),
          {
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirect,
            code_verifier: verifier,
            ...(client.clientSecret ? {} : { client_id: client.clientId }),
          },
          client.clientSecret ? { authorization: basic(client.clientId, client.clientSecret) } : {},
        );
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        return response.body as Record<string, string>;
      };
      /** The API's exchange at `server`, as a raw request (refusals are read as they come). */
      const exchange = (
        form: Record<string, string>,
        options: { server?: string; client?: { clientId: string; clientSecret?: string } } = {},
      ) => {
        const client = options.client ?? api;
        return harness.post(
          path(options.server ?? inventory, 'token'),
          {
            grant_type: tokenExchange,
            ...(client.clientSecret ? {} : { client_id: client.clientId }),
            ...form,
          },
          client.clientSecret ? { authorization: basic(client.clientId, client.clientSecret) } : {},
        );
      };
      const introspect = async (token: string, server: string, client = api) =>
        (
          await harness.post(
            path(server, 'introspect'),
            { token },
            { authorization: basic(client.clientId, client.clientSecret!) },
          )
        ).body as Record<string, unknown>;
      const deactivateClient = async (clientId: string) => {
        await harness.appendDirectory(tenant, [
          {
            aggregateId: clientId,
            event: { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
            version: 2,
          },
        ]);
        await harness.caughtUp();
      };
      return {
        ...harness,
        tenant,
        inventory,
        userId,
        login,
        web,
        api,
        path,
        issuerOf,
        configFor,
        signIn,
        exchange,
        introspect,
        deactivateClient,
      };
    };

    describe('on-behalf-of', () => {
      it("exchanges a user's access token of another server for one of this server: same user, the API's client, this server's scopes", async () => {
        const { configFor, signIn, web, api, inventory, userId, login, issuerOf, introspect } =
          await setup();
        const subject = (await signIn(web)).access_token!;
        const exchanged = await oidc.genericGrantRequest(configFor(api, inventory), tokenExchange, {
          subject_token: subject,
          subject_token_type: accessTokenType,
          scope: 'inventory.read',
          audience: 'api://inventory',
        });
        expect(exchanged).toMatchObject({
          token_type: 'bearer',
          issued_token_type: accessTokenType,
          scope: 'inventory.read',
        });
        expect(exchanged.refresh_token).toBeUndefined();
        expect(exchanged.id_token).toBeUndefined();
        const claims = decodeJwt(exchanged.access_token);
        expect(claims).toMatchObject({
          iss: issuerOf(inventory),
          aud: 'api://inventory',
          sub: login,
          uid: userId,
          cid: api.clientId,
          scp: ['inventory.read'],
          sbj: { jti: decodeJwt(subject).jti, server: 'default', cid: web.clientId },
        });
        expect(await introspect(exchanged.access_token, inventory)).toMatchObject({
          active: true,
          uid: userId,
        });
        // Within one server too, with its default scopes when none is asked for.
        const same = await oidc.genericGrantRequest(configFor(api, 'default'), tokenExchange, {
          subject_token: subject,
          subject_token_type: accessTokenType,
          scope: 'orders.read',
        });
        expect(decodeJwt(same.access_token).scp).toEqual(['orders.read']);
        const defaults = await oidc.genericGrantRequest(configFor(api, inventory), tokenExchange, {
          subject_token: subject,
          subject_token_type: accessTokenType,
        });
        expect(decodeJwt(defaults.access_token).scp).toEqual(['inventory.read']);
      });

      it('dies with its subject token: revoked, or its client deactivated', async () => {
        const { signIn, web, inventory, exchange, introspect, post, path, deactivateClient } =
          await setup();
        const form = (subject: string) => ({
          subject_token: subject,
          subject_token_type: accessTokenType,
        });
        const first = (await signIn(web)).access_token!;
        const exchanged = (await exchange(form(first))).body.access_token as string;
        expect((await introspect(exchanged, inventory)).active).toBe(true);
        await post(
          path('default', 'revoke'),
          { token: first },
          { authorization: basic(web.clientId, web.clientSecret!) },
        );
        expect(await introspect(exchanged, inventory)).toEqual({ active: false });
        // And the subject token revoked cannot be exchanged any more.
        expect((await exchange(form(first))).body).toMatchObject({ error: 'invalid_request' });

        const second = (await signIn(web)).access_token!;
        const again = (await exchange(form(second))).body.access_token as string;
        expect((await introspect(again, inventory)).active).toBe(true);
        await deactivateClient(web.clientId);
        expect(await introspect(again, inventory)).toEqual({ active: false });
      });

      it('refuses: the org server, public and unregistered clients, missing or wrong token types, bad subject tokens, the wrong audience, OpenID scopes', async () => {
        const { signIn, web, api, exchange, newClient, tenant, inventory, configFor } =
          await setup();
        const subject = (await signIn(web)).access_token!;
        const form = { subject_token: subject, subject_token_type: accessTokenType };
        const cases: [string, Promise<{ status: number; body: Record<string, string> }>, string][] =
          [
            ['the org server', exchange(form, { server: 'org' }), 'unsupported_grant_type'],
            [
              'no subject_token',
              exchange({ subject_token_type: accessTokenType }),
              'invalid_request',
            ],
            ['no subject_token_type', exchange({ subject_token: subject }), 'invalid_request'],
            [
              'an ID token type',
              exchange({ subject_token: subject, subject_token_type: idTokenType }),
              'invalid_request',
            ],
            ['a garbled token', exchange({ ...form, subject_token: 'x.y.z' }), 'invalid_request'],
            [
              'a refresh token type asked',
              exchange({
                ...form,
                requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
              }),
              'invalid_request',
            ],
            ['another audience', exchange({ ...form, audience: 'api://other' }), 'invalid_target'],
            ['openid', exchange({ ...form, scope: 'openid inventory.read' }), 'invalid_scope'],
            ['an unknown scope', exchange({ ...form, scope: 'nope' }), 'invalid_scope'],
          ];
        for (const [name, answer, error] of cases) {
          const { status, body } = await answer;
          expect([name, status, body.error]).toEqual([name, 400, error]);
        }
        // A client's own token (client_credentials: no user) is no subject token.
        const own = await oidc.clientCredentialsGrant(configFor(api, 'default'), {
          scope: 'orders.read',
        });
        expect((await exchange({ ...form, subject_token: own.access_token })).body).toMatchObject({
          error: 'invalid_request',
          error_description: 'The subject_token must be an access token issued to a user.',
        });
        // An exchanged token is not exchanged again.
        const exchanged = (await exchange(form)).body.access_token as string;
        expect(
          (await exchange({ ...form, subject_token: exchanged }, { server: 'default' })).body,
        ).toMatchObject({
          error: 'invalid_request',
          error_description: 'A token issued by a token exchange cannot be exchanged again.',
        });
        // Clients that may not exchange: one without the grant type, a public one.
        const job = await newClient(tenant, {
          client_name: 'Job',
          application_type: 'service',
          grant_types: ['client_credentials'],
          response_types: ['token'],
        });
        expect((await exchange(form, { client: job as never })).body.error).toBe(
          'unauthorized_client',
        );
        const spa = await newClient(tenant, {
          client_name: 'Native',
          application_type: 'native',
          redirect_uris: [nativeRedirect],
          grant_types: ['authorization_code', tokenExchange],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        });
        expect((await exchange(form, { client: spa as never })).body.error).toBe(
          'unauthorized_client',
        );
        expect(inventory).toMatch(/^aus/);
      });
    });

    describe('Native SSO', () => {
      const nativeApp = async (
        fixtures: Awaited<ReturnType<typeof setup>>,
        name: string,
        assign = true,
      ) => {
        const client = await fixtures.newClient(fixtures.tenant, {
          client_name: name,
          application_type: 'native',
          redirect_uris: [nativeRedirect],
          grant_types: ['authorization_code', 'refresh_token', tokenExchange],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        });
        if (assign)
          await fixtures.assign(fixtures.tenant, client.clientId, { userId: fixtures.userId });
        return client;
      };
      const ssoScopes = ['openid', 'profile', 'offline_access', 'device_sso'];

      it('gives the first app a device secret, and a second app its own tokens for the ID token and the secret', async () => {
        const fixtures = await setup();
        const { signIn, configFor, userId } = fixtures;
        const first = await nativeApp(fixtures, 'Mail');
        const second = await nativeApp(fixtures, 'Calendar');
        const session = await signIn(first, { scopes: ssoScopes, redirect: nativeRedirect });
        expect(session.device_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const idClaims = decodeJwt(session.id_token!);
        const dsHash = createHash('sha256')
          .update(session.device_secret!)
          .digest()
          .subarray(0, 16)
          .toString('base64url');
        expect(idClaims).toMatchObject({ sid: expect.any(String), ds_hash: dsHash });

        const tokens = await oidc.genericGrantRequest(configFor(second, 'default'), tokenExchange, {
          subject_token: session.id_token!,
          subject_token_type: idTokenType,
          actor_token: session.device_secret!,
          actor_token_type: deviceSecretType,
          scope: 'openid profile offline_access',
          audience: 'api://default',
        });
        expect(tokens.issued_token_type).toBe(accessTokenType);
        expect(decodeJwt(tokens.access_token)).toMatchObject({ uid: userId, cid: second.clientId });
        expect(decodeJwt(tokens.id_token!)).toMatchObject({ sub: userId, aud: second.clientId });
        expect(tokens.refresh_token).toEqual(expect.any(String));
        expect(tokens.device_secret).toBeUndefined();
        expect(
          await oidc.tokenIntrospection(configFor(second, 'default'), tokens.refresh_token!),
        ).toMatchObject({ active: true, client_id: second.clientId, uid: userId });

        // The first app's refreshed ID tokens still name the session and its secret.
        const refreshed = await oidc.refreshTokenGrant(
          configFor(first, 'default'),
          session.refresh_token!,
        );
        expect(decodeJwt(refreshed.id_token!)).toMatchObject({
          sid: idClaims.sid,
          ds_hash: dsHash,
        });
        const fromRefreshed = await oidc.genericGrantRequest(
          configFor(second, 'default'),
          tokenExchange,
          {
            subject_token: refreshed.id_token!,
            subject_token_type: idTokenType,
            actor_token: session.device_secret!,
            actor_token_type: deviceSecretType,
            scope: 'openid',
          },
        );
        expect(decodeJwt(fromRefreshed.id_token!).sub).toBe(userId);
      });

      it('refuses another session’s ID token, a wrong secret, an unassigned or non-native app', async () => {
        const fixtures = await setup();
        const { signIn, exchange, web } = fixtures;
        const first = await nativeApp(fixtures, 'Mail');
        const second = await nativeApp(fixtures, 'Calendar');
        const stranger = await nativeApp(fixtures, 'Stranger', false);
        const session = await signIn(first, { scopes: ssoScopes, redirect: nativeRedirect });
        const other = await signIn(first, { scopes: ssoScopes, redirect: nativeRedirect });
        const form = {
          subject_token: session.id_token!,
          subject_token_type: idTokenType,
          actor_token: session.device_secret!,
          actor_token_type: deviceSecretType,
          scope: 'openid',
        };
        const refused = async (
          changed: Record<string, string>,
          client: { clientId: string },
          error: string,
        ) => {
          const { status, body } = await exchange(
            { ...form, ...changed },
            { server: 'default', client: client as never },
          );
          expect([status, body.error], JSON.stringify(body)).toEqual([400, error]);
        };
        await refused({ subject_token: other.id_token! }, second, 'invalid_grant');
        await refused({ actor_token: 'not-a-device-secret' }, second, 'invalid_grant');
        await refused({ subject_token: session.access_token! }, second, 'invalid_grant');
        await refused({ subject_token_type: accessTokenType }, second, 'invalid_request');
        await refused({}, stranger, 'access_denied');
        // A web app is no native app: Native SSO is not for it.
        const webForm = await exchange(form, { server: 'default', client: web as never });
        expect(webForm.body.error).toBe('unauthorized_client');
        // A web app signed in with device_sso gets no device secret.
        expect((await signIn(web, { scopes: ssoScopes })).device_secret).toBeUndefined();
        // All the while the right request works.
        expect((await exchange(form, { server: 'default', client: second as never })).status).toBe(
          200,
        );
      });

      it("dies with the first app's session, client and user (SPEC section 6)", async () => {
        const fixtures = await setup();
        const { signIn, exchange, appendDirectory, tenant, userId, caughtUp, post, path } =
          fixtures;
        const second = await nativeApp(fixtures, 'Calendar');
        const formOf = (session: Record<string, string>) => ({
          subject_token: session.id_token!,
          subject_token_type: idTokenType,
          actor_token: session.device_secret!,
          actor_token_type: deviceSecretType,
          scope: 'openid',
        });
        const use = (session: Record<string, string>) =>
          exchange(formOf(session), { server: 'default', client: second as never });

        // The session's grant revoked (its refresh token revoked).
        const revokedApp = await nativeApp(fixtures, 'Mail');
        const revoked = await signIn(revokedApp, { scopes: ssoScopes, redirect: nativeRedirect });
        expect((await use(revoked)).status).toBe(200);
        await post(path('default', 'revoke'), {
          token: revoked.refresh_token!,
          client_id: revokedApp.clientId,
        });
        expect((await use(revoked)).body.error).toBe('invalid_grant');

        // Its client deactivated.
        const gone = await nativeApp(fixtures, 'Notes');
        const session = await signIn(gone, { scopes: ssoScopes, redirect: nativeRedirect });
        expect((await use(session)).status).toBe(200);
        await fixtures.deactivateClient(gone.clientId);
        expect((await use(session)).body.error).toBe('invalid_grant');

        // Its user suspended.
        const mail = await nativeApp(fixtures, 'Photos');
        const last = await signIn(mail, { scopes: ssoScopes, redirect: nativeRedirect });
        expect((await use(last)).status).toBe(200);
        await appendDirectory(tenant, [
          { aggregateId: userId, event: { type: 'gatehouse.events.v1.UserSuspended', data: {} } },
        ]);
        await caughtUp();
        expect((await use(last)).body.error).toBe('invalid_grant');
      });
    });
  });
}
