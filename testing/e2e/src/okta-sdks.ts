// Okta's own Node SDKs, unchanged, pointed at a fresh tenant of the target: the management SDK
// (@okta/okta-sdk-nodejs), okta-auth-js in Node, @okta/jwt-verifier and @okta/oidc-middleware. Each
// SDK call is its own test, asserting what Okta documents, so a failure names the call that broke.
// Calls build on the ones before them (a user created, then read, then listed), in order.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, launchChromium } from '@gatehouse/testkit';
import OktaJwtVerifier from '@okta/jwt-verifier';
import oidcMiddleware from '@okta/oidc-middleware';
import {
  type AccessToken,
  buildAuthorizeParams,
  getOAuthUrls,
  type IDToken,
  OktaAuth,
  type RefreshToken,
  TokenKind,
  type TokenParams,
} from '@okta/okta-auth-js';
import okta from '@okta/okta-sdk-nodejs';
import express from 'express';
import session from 'express-session';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientApp,
  connect,
  type E2eTenant,
  managementApi,
  newE2eTenant,
  password,
  signInInBrowser,
} from './suite.js';
import type { Target } from './targets.js';

type Json = Record<string, unknown>;
// The SDK's models are classes with every Okta attribute optional: the tests read them as JSON.
// biome-ignore lint/suspicious/noExplicitAny: an SDK model read as Okta's JSON, attribute by attribute
type Model = Record<string, any>;

/** What the SDK's collections offer: an async iterator that fetches the next page (`after`). */
interface SdkCollection {
  [Symbol.asyncIterator](): { next(): Promise<{ done: boolean; value: unknown }> };
}

/** Every item of an SDK collection, through its async iterator (which pages over `after`). */
async function all<T = Model>(collection: SdkCollection | Promise<SdkCollection>): Promise<T[]> {
  const items: T[] = [];
  const iterator = (await collection)[Symbol.asyncIterator]();
  for (;;) {
    const { done, value } = await iterator.next();
    if (done) break;
    if (value) items.push(value as T);
  }
  return items;
}

/** What an earlier call made, asserting it made it: a later call then fails naming its cause. */
function made<T>(value: T | undefined, call: string): T {
  expect(value, `needs what ${call} returns, and it failed`).toBeDefined();
  return value as T;
}

const ids = (items: Model[]) => items.map((item) => item.id as string);

/** The tenant's management API (existing endpoints) for setting up what an SDK test needs. */
function tenantApi(target: Target, tenant: E2eTenant) {
  const api = managementApi(target);
  const path = new URL(tenant.org).pathname.replace(/\/$/, '');
  return (method: string, p: string, body?: unknown) =>
    api.ok(method, `${path}${p}`, tenant.apiToken, body);
}

export function defineOktaSdkSuite(label: string, getTarget: () => Target): void {
  describe(`${label}: Okta's SDKs`, () => {
    let target: Target;
    let tenant: E2eTenant;
    const app = new ClientApp();

    beforeAll(async () => {
      target = getTarget();
      await app.start();
      tenant = await newE2eTenant(target, app);
    });
    afterAll(() => app.stop());

    describe('@okta/okta-sdk-nodejs', () => {
      let client: InstanceType<typeof okta.Client>;
      const requested: string[] = [];
      const suffix = randomBytes(3).toString('hex');
      const login = `grace.${suffix}@example.com`;
      let grace: Model;
      let others: Model[] = [];
      let group: Model;
      let application: Model;
      let server: Model;
      let policy: Model;

      it('new Client({ orgUrl, token }) (README quick start)', () => {
        client = new okta.Client({ orgUrl: tenant.org, token: tenant.apiToken });
        client.requestExecutor.on('request', (request: { url: string }) =>
          requested.push(request.url),
        );
        expect(client.userApi).toBeDefined();
      });

      describe('users', () => {
        it('userApi.createUser({ body: profile + password credentials, activate: true })', async () => {
          grace = await client.userApi.createUser({
            body: {
              profile: { firstName: 'Grace', lastName: 'Hopper', email: login, login },
              credentials: { password: { value: password } },
            },
            activate: true,
          });
          expect(grace.id).toEqual(expect.any(String));
          expect(grace.status).toBe('ACTIVE');
          expect(grace.profile).toMatchObject({ login, email: login, firstName: 'Grace' });
          // Okta never returns the password.
          expect(grace.credentials?.password?.value).toBeUndefined();
        });

        it('userApi.getUser({ userId: id })', async () => {
          const user: Model = await client.userApi.getUser({ userId: grace.id });
          expect(user).toMatchObject({ id: grace.id, status: 'ACTIVE', profile: { login } });
        });

        it('userApi.getUser({ userId: login })', async () => {
          const user: Model = await client.userApi.getUser({ userId: login });
          expect(user.id).toBe(grace.id);
        });

        it('userApi.updateUser (POST: partial profile, the rest kept)', async () => {
          const user: Model = await client.userApi.updateUser({
            userId: grace.id,
            user: { profile: { lastName: 'Hopper-Murray' } },
          });
          expect(user.profile).toMatchObject({
            firstName: 'Grace',
            lastName: 'Hopper-Murray',
            login,
          });
        });

        it("userApi.updateUser with Okta's base profile (mobilePhone, title, department, ...)", async () => {
          const base = {
            nickName: 'Amazing Grace',
            mobilePhone: '+1 555 0100',
            secondEmail: `grace.second.${suffix}@example.com`,
            title: 'Rear Admiral',
            department: 'Navy',
            employeeNumber: '1906',
            organization: 'US Navy',
            userType: 'Officer',
            preferredLanguage: 'en',
            honorificPrefix: 'Dr.',
          };
          const user: Model = await client.userApi.updateUser({
            userId: grace.id,
            user: { profile: base },
          });
          expect(user.profile).toMatchObject({ ...base, firstName: 'Grace', login });
          const read: Model = await client.userApi.getUser({ userId: grace.id });
          expect(read.profile).toMatchObject(base);
        });

        it('userApi.replaceUser (PUT: the whole profile, what is left out is removed)', async () => {
          const profile = {
            firstName: 'Grace',
            lastName: 'Hopper',
            email: login,
            login,
            title: 'Commodore',
          };
          const user: Model = await client.userApi.replaceUser({
            userId: grace.id,
            user: { profile },
          });
          expect(user.profile).toMatchObject(profile);
          expect(user.profile.mobilePhone ?? undefined).toBeUndefined();
          const read: Model = await client.userApi.getUser({ userId: grace.id });
          expect(read.profile).toMatchObject(profile);
          expect(read.profile.department ?? undefined).toBeUndefined();
        });

        it('userApi.createUser: two more users, for the collections', async () => {
          others = [];
          for (const [firstName, lastName] of [
            ['Alan', 'Turing'],
            ['Barbara', 'Liskov'],
          ] as const) {
            const email = `${firstName.toLowerCase()}.${suffix}@example.com`;
            others.push(
              await client.userApi.createUser({
                body: {
                  profile: { firstName, lastName, email, login: email },
                  credentials: { password: { value: password } },
                },
                activate: true,
              }),
            );
          }
          expect(others.map((user) => user.status)).toEqual(['ACTIVE', 'ACTIVE']);
        });

        it('userApi.listUsers() with collection.each (README)', async () => {
          const seen: string[] = [];
          const collection = await client.userApi.listUsers();
          await collection.each((user: Model) => {
            seen.push(user.id);
          });
          expect(seen).toEqual(expect.arrayContaining([tenant.user.id, grace.id, ...ids(others)]));
          expect(new Set(seen).size).toBe(seen.length);
        });

        it('userApi.listUsers({ q }) (prefix of first name, last name, login or email)', async () => {
          const found = await all<Model>(client.userApi.listUsers({ q: 'Grac' }));
          expect(ids(found)).toEqual([grace.id]);
        });

        it('userApi.listUsers({ filter })', async () => {
          const byLogin = await all<Model>(
            client.userApi.listUsers({ filter: `profile.login eq "${login}"` }),
          );
          expect(ids(byLogin)).toEqual([grace.id]);
          const active = await all<Model>(
            client.userApi.listUsers({
              filter: 'status eq "ACTIVE" and lastUpdated gt "2000-01-01T00:00:00.000Z"',
            }),
          );
          expect(ids(active)).toEqual(
            expect.arrayContaining([tenant.user.id, grace.id, ...ids(others)]),
          );
        });

        it('userApi.listUsers({ search })', async () => {
          const found = await all<Model>(
            client.userApi.listUsers({
              search: 'profile.lastName eq "Liskov" and status eq "ACTIVE"',
            }),
          );
          expect(ids(found)).toEqual([others[1]!.id]);
        });

        it('userApi.listUsers({ limit: 2 }): the async iterator pages over `after`', async () => {
          requested.length = 0;
          const found = await all<Model>(client.userApi.listUsers({ limit: 2 }));
          expect(ids(found)).toEqual(
            expect.arrayContaining([tenant.user.id, grace.id, ...ids(others)]),
          );
          expect(new Set(ids(found)).size).toBe(found.length);
          // Four users, two a page: the SDK followed `Link: rel="next"` at least once, with `after`.
          const pages = requested.filter((url) => new URL(url).pathname.endsWith('/api/v1/users'));
          expect(pages.length).toBeGreaterThanOrEqual(2);
          expect(new URL(pages[1]!).searchParams.get('after')).toEqual(expect.any(String));
          expect(new URL(pages[1]!).searchParams.get('limit')).toBe('2');
        });

        it('userApi.suspendUser', async () => {
          await client.userApi.suspendUser({ userId: others[0]!.id });
          expect(((await client.userApi.getUser({ userId: others[0]!.id })) as Model).status).toBe(
            'SUSPENDED',
          );
        });

        it('userApi.unsuspendUser', async () => {
          await client.userApi.unsuspendUser({ userId: others[0]!.id });
          expect(((await client.userApi.getUser({ userId: others[0]!.id })) as Model).status).toBe(
            'ACTIVE',
          );
        });

        it('userApi.deactivateUser', async () => {
          await client.userApi.deactivateUser({ userId: others[0]!.id });
          expect(((await client.userApi.getUser({ userId: others[0]!.id })) as Model).status).toBe(
            'DEPROVISIONED',
          );
        });

        it('userApi.activateUser({ sendEmail: false })', async () => {
          await client.userApi.activateUser({ userId: others[0]!.id, sendEmail: false });
          const status = ((await client.userApi.getUser({ userId: others[0]!.id })) as Model)
            .status;
          // Okta: a reactivated user with a password is ACTIVE, without one PROVISIONED.
          expect(['ACTIVE', 'PROVISIONED']).toContain(status);
        });

        it('userApi.deactivateUser + userApi.deleteUser (README)', async () => {
          await client.userApi.deactivateUser({ userId: others[0]!.id });
          await client.userApi.deleteUser({ userId: others[0]!.id });
          await expect(client.userApi.getUser({ userId: others[0]!.id })).rejects.toMatchObject({
            status: 404,
            errorCode: 'E0000007',
          });
        });
      });

      describe('groups', () => {
        it('groupApi.createGroup({ group: { profile: { name } } }) (README)', async () => {
          group = await client.groupApi.createGroup({
            group: { profile: { name: `Engineers ${suffix}`, description: 'Builds things' } },
          });
          expect(group.id).toEqual(expect.any(String));
          expect(group.type).toBe('OKTA_GROUP');
          expect(group.profile).toMatchObject({ name: `Engineers ${suffix}` });
        });

        it('groupApi.listGroups({ q })', async () => {
          const found = await all<Model>(client.groupApi.listGroups({ q: 'Engineers' }));
          expect(ids(found)).toEqual([group.id]);
          const everyone = await all<Model>(client.groupApi.listGroups({ q: 'Every' }));
          expect(everyone.map((g) => g.profile?.name)).toContain('Everyone');
        });

        it('groupApi.getGroup', async () => {
          const read: Model = await client.groupApi.getGroup({ groupId: group.id });
          expect(read).toMatchObject({ id: group.id, profile: { name: `Engineers ${suffix}` } });
        });

        it('groupApi.replaceGroup (PUT)', async () => {
          const replaced: Model = await client.groupApi.replaceGroup({
            groupId: group.id,
            group: { profile: { name: `Engineering ${suffix}`, description: 'Renamed' } },
          });
          expect(replaced.profile).toMatchObject({
            name: `Engineering ${suffix}`,
            description: 'Renamed',
          });
          const read: Model = await client.groupApi.getGroup({ groupId: group.id });
          expect(read.profile.name).toBe(`Engineering ${suffix}`);
        });

        it('groupApi.assignUserToGroup (README)', async () => {
          await client.groupApi.assignUserToGroup({ groupId: group.id, userId: grace.id });
        });

        it('groupApi.listGroupUsers', async () => {
          const members = await all<Model>(client.groupApi.listGroupUsers({ groupId: group.id }));
          expect(ids(members)).toEqual([grace.id]);
        });

        it('userApi.listUserGroups', async () => {
          const groups = await all<Model>(client.userApi.listUserGroups({ userId: grace.id }));
          expect(ids(groups)).toContain(group.id);
          expect(groups.map((g) => g.profile?.name)).toContain('Everyone');
        });

        it('groupApi.unassignUserFromGroup', async () => {
          await client.groupApi.unassignUserFromGroup({ groupId: group.id, userId: grace.id });
          const members = await all<Model>(client.groupApi.listGroupUsers({ groupId: group.id }));
          expect(ids(members)).toEqual([]);
          await client.groupApi.assignUserToGroup({ groupId: group.id, userId: grace.id });
        });
      });

      describe('applications', () => {
        it('applicationApi.createApplication (oidc_client, OPENID_CONNECT)', async () => {
          application = await client.applicationApi.createApplication({
            application: {
              name: 'oidc_client',
              label: `SDK web app ${suffix}`,
              signOnMode: 'OPENID_CONNECT',
              credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
              settings: {
                oauthClient: {
                  application_type: 'web',
                  redirect_uris: [app.callback],
                  post_logout_redirect_uris: [app.loggedOut],
                  response_types: ['code'],
                  grant_types: ['authorization_code', 'refresh_token'],
                },
              },
            } as Model as never,
          });
          expect(application).toMatchObject({
            name: 'oidc_client',
            label: `SDK web app ${suffix}`,
            signOnMode: 'OPENID_CONNECT',
            status: 'ACTIVE',
          });
          expect(application.id).toEqual(expect.any(String));
          expect(application.credentials?.oauthClient?.client_id).toEqual(expect.any(String));
          expect(application.settings?.oauthClient?.redirect_uris).toEqual([app.callback]);
        });

        it('applicationApi.getApplication', async () => {
          const read: Model = await client.applicationApi.getApplication({
            appId: made(application, 'createApplication').id,
          });
          expect(read).toMatchObject({
            id: made(application, 'createApplication').id,
            name: 'oidc_client',
            label: `SDK web app ${suffix}`,
          });
        });

        it('applicationApi.listApplications (also the clients of /oauth2/v1/clients)', async () => {
          const apps = await all<Model>(client.applicationApi.listApplications());
          expect(ids(apps)).toEqual(
            expect.arrayContaining([
              made(application, 'createApplication').id,
              tenant.web.clientId,
            ]),
          );
        });

        it('applicationApi.replaceApplication (PUT)', async () => {
          const replaced: Model = await client.applicationApi.replaceApplication({
            appId: made(application, 'createApplication').id,
            application: {
              ...made(application, 'createApplication'),
              label: `SDK web app renamed ${suffix}`,
            } as never,
          });
          expect(replaced.label).toBe(`SDK web app renamed ${suffix}`);
          const read: Model = await client.applicationApi.getApplication({
            appId: made(application, 'createApplication').id,
          });
          expect(read.label).toBe(`SDK web app renamed ${suffix}`);
        });

        it('applicationApi.assignUserToApplication({ appUser: { id } }) (README)', async () => {
          const appUser: Model = await client.applicationApi.assignUserToApplication({
            appId: made(application, 'createApplication').id,
            appUser: { id: grace.id },
          });
          expect(appUser.id).toBe(grace.id);
        });

        it('applicationApi.listApplicationUsers', async () => {
          const users = await all<Model>(
            client.applicationApi.listApplicationUsers({
              appId: made(application, 'createApplication').id,
            }),
          );
          expect(ids(users)).toEqual([grace.id]);
        });

        it('applicationApi.assignGroupToApplication (README)', async () => {
          const assignment: Model = await client.applicationApi.assignGroupToApplication({
            appId: made(application, 'createApplication').id,
            groupId: group.id,
            applicationGroupAssignment: {},
          });
          expect(assignment.id).toBe(group.id);
        });

        it('applicationApi.listApplicationGroupAssignments', async () => {
          const groups = await all<Model>(
            client.applicationApi.listApplicationGroupAssignments({
              appId: made(application, 'createApplication').id,
            }),
          );
          expect(ids(groups)).toEqual([group.id]);
        });

        it('applicationApi.deactivateApplication', async () => {
          await client.applicationApi.deactivateApplication({
            appId: made(application, 'createApplication').id,
          });
          const read: Model = await client.applicationApi.getApplication({
            appId: made(application, 'createApplication').id,
          });
          expect(read.status).toBe('INACTIVE');
        });

        it('applicationApi.deleteApplication', async () => {
          await client.applicationApi.deleteApplication({
            appId: made(application, 'createApplication').id,
          });
          await expect(
            client.applicationApi.getApplication({
              appId: made(application, 'createApplication').id,
            }),
          ).rejects.toMatchObject({ status: 404, errorCode: 'E0000007' });
        });

        it("a private_key_jwt service app (settings.oauthClient.jwks): openid-client's PrivateKeyJwt gets its tokens, a replayed assertion does not", async () => {
          const { privateKey, publicKey } = await generateKeyPair('ES256');
          const jwk = { ...(await exportJWK(publicKey)), kid: `sdk-${suffix}`, alg: 'ES256' };
          const signer: Model = await client.applicationApi.createApplication({
            application: {
              name: 'oidc_client',
              label: `SDK signer ${suffix}`,
              signOnMode: 'OPENID_CONNECT',
              credentials: { oauthClient: { token_endpoint_auth_method: 'private_key_jwt' } },
              settings: {
                oauthClient: {
                  application_type: 'service',
                  grant_types: ['client_credentials'],
                  // As Okta's own examples register a service app.
                  response_types: ['token'],
                  jwks: { keys: [jwk] },
                },
              },
            } as Model as never,
          });
          const clientId = signer.credentials?.oauthClient?.client_id as string;
          expect(signer.credentials?.oauthClient?.client_secret).toBeUndefined();
          expect(signer.settings?.oauthClient?.jwks?.keys).toEqual([
            expect.objectContaining({ kid: jwk.kid, kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }),
          ]);
          await tenantApi(target, tenant)('POST', '/api/v1/authorizationServers/default/scopes', {
            name: `sdk.read.${suffix}`,
            description: 'Read for the SDK signer',
          }).catch(() => undefined);
          const config = await oidc.discovery(
            new URL(tenant.issuer),
            clientId,
            { token_endpoint_auth_signing_alg: 'ES256' },
            oidc.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }),
            { execute: [oidc.allowInsecureRequests] },
          );
          expect(config.serverMetadata().token_endpoint_auth_methods_supported).toContain(
            'private_key_jwt',
          );
          const token = await oidc.clientCredentialsGrant(config, {
            scope: `sdk.read.${suffix}`,
          });
          expect(token.scope).toBe(`sdk.read.${suffix}`);
          expect((await oidc.tokenIntrospection(config, token.access_token)).active).toBe(true);
          // The same assertion twice: the second is refused, at whichever replica it lands.
          const now = Math.floor(Date.now() / 1000);
          const assertion = await new SignJWT({ jti: randomBytes(16).toString('hex') })
            .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
            .setIssuer(clientId)
            .setSubject(clientId)
            .setAudience(tenant.issuer)
            .setIssuedAt(now)
            .setExpirationTime(now + 60)
            .sign(privateKey);
          const tokenRequest = () =>
            fetch(`${tenant.issuer}/v1/token`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({
                grant_type: 'client_credentials',
                scope: `sdk.read.${suffix}`,
                client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                client_assertion: assertion,
              }),
            }).then(async (response) => [
              response.status,
              ((await response.json()) as { error?: string }).error,
            ]);
          expect(await tokenRequest()).toEqual([200, undefined]);
          expect(await tokenRequest()).toEqual([401, 'invalid_client']);
          await client.applicationApi.deactivateApplication({ appId: signer.id });
          await client.applicationApi.deleteApplication({ appId: signer.id });
        });

        it("a client_secret_jwt client registered at /oauth2/v1/clients: openid-client's ClientSecretJwt gets its tokens, its secret itself is refused", async () => {
          const registered = (await tenantApi(target, tenant)('POST', '/oauth2/v1/clients', {
            client_name: `HMAC signer ${suffix}`,
            application_type: 'service',
            grant_types: ['client_credentials'],
            response_types: [],
            token_endpoint_auth_method: 'client_secret_jwt',
          })) as { client_id: string; client_secret: string };
          expect(registered.client_secret).toEqual(expect.any(String));
          const scope = `hmac.read.${suffix}`;
          await tenantApi(target, tenant)('POST', '/api/v1/authorizationServers/default/scopes', {
            name: scope,
            description: 'Read for the HMAC signer',
          });
          const config = await oidc.discovery(
            new URL(tenant.issuer),
            registered.client_id,
            {},
            oidc.ClientSecretJwt(registered.client_secret),
            { execute: [oidc.allowInsecureRequests] },
          );
          expect(config.serverMetadata().token_endpoint_auth_methods_supported).toContain(
            'client_secret_jwt',
          );
          const token = await oidc.clientCredentialsGrant(config, { scope });
          expect(token.scope).toBe(scope);
          const asBasic = await fetch(`${tenant.issuer}/v1/token`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`,
            },
            body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
          });
          expect([asBasic.status, ((await asBasic.json()) as { error?: string }).error]).toEqual([
            401,
            'invalid_client',
          ]);
        });

        it('groupApi.deleteGroup', async () => {
          await client.groupApi.deleteGroup({ groupId: group.id });
          await expect(client.groupApi.getGroup({ groupId: group.id })).rejects.toMatchObject({
            status: 404,
            errorCode: 'E0000007',
          });
        });
      });

      describe('authorization servers', () => {
        it('authorizationServerApi.createAuthorizationServer', async () => {
          server = await client.authorizationServerApi.createAuthorizationServer({
            authorizationServer: {
              name: `SDK server ${suffix}`,
              description: 'Made by okta-sdk-nodejs',
              audiences: [`api://sdk-${suffix}`],
            },
          });
          expect(server.id).toEqual(expect.any(String));
          expect(server).toMatchObject({
            name: `SDK server ${suffix}`,
            audiences: [`api://sdk-${suffix}`],
            status: 'ACTIVE',
          });
          expect(server.issuer).toBe(`${tenant.org}/oauth2/${server.id}`);
        });

        it('authorizationServerApi.listAuthorizationServers', async () => {
          const servers = await all<Model>(
            client.authorizationServerApi.listAuthorizationServers(),
          );
          expect(ids(servers)).toEqual(expect.arrayContaining(['default', server.id]));
        });

        it('authorizationServerApi.getAuthorizationServer', async () => {
          const read: Model = await client.authorizationServerApi.getAuthorizationServer({
            authServerId: server.id,
          });
          expect(read).toMatchObject({ id: server.id, name: `SDK server ${suffix}` });
        });

        it("authorizationServerApi.listOAuth2Scopes: a new server has Okta's system scopes", async () => {
          const scopes = await all<Model>(
            client.authorizationServerApi.listOAuth2Scopes({ authServerId: server.id }),
          );
          expect(scopes.map((scope) => scope.name)).toEqual(
            expect.arrayContaining(['openid', 'profile', 'email', 'address', 'phone']),
          );
          expect(scopes.map((scope) => scope.name)).toContain('offline_access');
          const metadata = (await (
            await fetch(`${server.issuer}/.well-known/openid-configuration`)
          ).json()) as Json;
          expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile']));
        });

        it('authorizationServerApi.createOAuth2Scope', async () => {
          const scope: Model = await client.authorizationServerApi.createOAuth2Scope({
            authServerId: server.id,
            oAuth2Scope: {
              name: `sdk:read`,
              description: 'Read things',
              consent: 'IMPLICIT',
              metadataPublish: 'ALL_CLIENTS',
            },
          });
          expect(scope).toMatchObject({ name: 'sdk:read', consent: 'IMPLICIT' });
          expect(scope.id).toEqual(expect.any(String));
        });

        it('authorizationServerApi.listOAuth2Scopes (the new scope)', async () => {
          const scopes = await all<Model>(
            client.authorizationServerApi.listOAuth2Scopes({ authServerId: server.id }),
          );
          expect(scopes.map((scope) => scope.name)).toContain('sdk:read');
        });

        it('authorizationServerApi.createOAuth2Claim', async () => {
          const claim: Model = await client.authorizationServerApi.createOAuth2Claim({
            authServerId: server.id,
            oAuth2Claim: {
              name: 'preferred_username',
              status: 'ACTIVE',
              claimType: 'RESOURCE',
              valueType: 'EXPRESSION',
              value: 'user.login',
              alwaysIncludeInToken: true,
              conditions: { scopes: [] },
            },
          });
          expect(claim).toMatchObject({
            name: 'preferred_username',
            claimType: 'RESOURCE',
            value: 'user.login',
          });
          expect(claim.id).toEqual(expect.any(String));
        });

        it('authorizationServerApi.listOAuth2Claims', async () => {
          const claims = await all<Model>(
            client.authorizationServerApi.listOAuth2Claims({ authServerId: server.id }),
          );
          expect(claims.map((claim) => claim.name)).toContain('preferred_username');
        });

        it('authorizationServerApi.createAuthorizationServerPolicy', async () => {
          policy = await client.authorizationServerApi.createAuthorizationServerPolicy({
            authServerId: server.id,
            policy: {
              type: 'OAUTH_AUTHORIZATION_POLICY',
              name: 'All clients',
              description: 'Every client of the tenant',
              priority: 1,
              conditions: { clients: { include: ['ALL_CLIENTS'] } },
            },
          });
          expect(policy.id).toEqual(expect.any(String));
          expect(policy).toMatchObject({ name: 'All clients', status: 'ACTIVE' });
        });

        it('authorizationServerApi.listAuthorizationServerPolicies', async () => {
          const policies = await all<Model>(
            client.authorizationServerApi.listAuthorizationServerPolicies({
              authServerId: server.id,
            }),
          );
          expect(ids(policies)).toContain(policy.id);
        });

        it('authorizationServerApi.createAuthorizationServerPolicyRule (groups include EVERYONE)', async () => {
          const rule: Model =
            await client.authorizationServerApi.createAuthorizationServerPolicyRule({
              authServerId: server.id,
              policyId: policy.id,
              policyRule: {
                type: 'RESOURCE_ACCESS',
                name: 'Everyone, code flow',
                priority: 1,
                conditions: {
                  people: { groups: { include: ['EVERYONE'] } },
                  // Okta's rule grant types: a refresh follows the rule of the grant it continues.
                  grantTypes: { include: ['authorization_code'] },
                  scopes: { include: ['openid', 'profile', 'email', 'offline_access', 'sdk:read'] },
                },
                actions: {
                  token: {
                    accessTokenLifetimeMinutes: 60,
                    refreshTokenLifetimeMinutes: 0,
                    refreshTokenWindowMinutes: 10080,
                  },
                },
              } as never,
            });
          expect(rule.id).toEqual(expect.any(String));
          expect(rule.conditions?.people?.groups?.include).toEqual(['EVERYONE']);
        });

        it('authorizationServerApi.listAuthorizationServerPolicyRules', async () => {
          const rules = await all<Model>(
            client.authorizationServerApi.listAuthorizationServerPolicyRules({
              authServerId: server.id,
              policyId: policy.id,
            }),
          );
          expect(rules.map((rule) => rule.name)).toContain('Everyone, code flow');
        });
      });

      describe('user profile schema', () => {
        it('schemaApi.getUserSchema({ schemaId: "default" })', async () => {
          const schema: Model = await client.schemaApi.getUserSchema({ schemaId: 'default' });
          expect(schema.definitions?.base?.properties).toEqual(
            expect.objectContaining({
              login: expect.any(Object),
              email: expect.any(Object),
              firstName: expect.any(Object),
              lastName: expect.any(Object),
              mobilePhone: expect.any(Object),
            }),
          );
          expect(schema.definitions?.custom).toEqual(expect.any(Object));
        });

        it('schemaApi.updateUserProfile: a custom attribute', async () => {
          const schema: Model = await client.schemaApi.updateUserProfile({
            schemaId: 'default',
            userSchema: {
              definitions: {
                custom: {
                  id: '#custom',
                  type: 'object',
                  properties: {
                    favoriteLanguage: {
                      title: 'Favorite language',
                      description: 'The programming language they like best',
                      type: 'string',
                      minLength: 1,
                      maxLength: 20,
                    },
                  },
                  required: [],
                },
              },
            } as never,
          });
          expect(schema.definitions?.custom?.properties?.favoriteLanguage).toMatchObject({
            title: 'Favorite language',
            type: 'string',
            maxLength: 20,
          });
        });

        it('userApi.updateUser: the user carries the custom attribute', async () => {
          const user: Model = await client.userApi.updateUser({
            userId: grace.id,
            user: { profile: { favoriteLanguage: 'COBOL' } },
          });
          expect(user.profile.favoriteLanguage).toBe('COBOL');
        });
      });

      describe('cleanup', () => {
        it('userApi.deactivateUser + userApi.deleteUser (the user of these tests)', async () => {
          await client.userApi.deactivateUser({ userId: grace.id });
          await client.userApi.deleteUser({ userId: grace.id });
          await expect(client.userApi.getUser({ userId: grace.id })).rejects.toMatchObject({
            status: 404,
          });
        });
      });
    });

    describe('@okta/okta-auth-js (Node)', () => {
      // A public SPA (PKCE, no secret) and a confidential web app (secret), as apps use them.
      for (const kind of ['spa', 'web'] as const) {
        describe(
          kind === 'spa' ? 'SPA: public client, PKCE' : 'web app: confidential client',
          () => {
            let authClient: OktaAuth;
            let clientId: string;
            let sessionToken: string;
            let tokens:
              | { accessToken: AccessToken; idToken: IDToken; refreshToken: RefreshToken }
              | undefined;

            beforeAll(async () => {
              if (kind === 'spa') {
                // Its own SPA, consent TRUSTED, so the sessionToken flow ends at the redirect.
                const as = tenantApi(target, tenant);
                const spa = await as('POST', '/oauth2/v1/clients', {
                  client_name: 'auth-js SPA',
                  application_type: 'browser',
                  token_endpoint_auth_method: 'none',
                  grant_types: ['authorization_code', 'refresh_token'],
                  response_types: ['code'],
                  redirect_uris: [app.callback],
                  post_logout_redirect_uris: [app.loggedOut],
                  consent_method: 'TRUSTED',
                });
                clientId = spa.client_id as string;
                await as('PUT', `/api/v1/apps/${clientId}/users/${tenant.user.id}`);
              } else {
                clientId = tenant.web.clientId;
              }
            });

            it('new OktaAuth({ issuer, clientId, redirectUri, pkce })', () => {
              authClient = new OktaAuth({
                issuer: tenant.issuer,
                clientId,
                ...(kind === 'web' ? { clientSecret: tenant.web.clientSecret } : {}),
                redirectUri: app.callback,
                scopes: ['openid', 'profile', 'email', 'offline_access'],
                pkce: true,
                // Each client its own token storage: renewTokens reads the refresh token from it.
                tokenManager: { storage: 'memory', storageKey: `okta-token-storage-${kind}` },
              });
              expect(authClient.getIssuerOrigin()).toBe(tenant.org);
            });

            it('signInWithCredentials (authn) -> SUCCESS with a sessionToken', async () => {
              const transaction = await authClient.signInWithCredentials({
                username: tenant.user.login,
                password,
              });
              expect(transaction.status).toBe('SUCCESS');
              expect(transaction.sessionToken).toEqual(expect.any(String));
              sessionToken = transaction.sessionToken!;
            });

            it('token.prepareTokenParams + authorize URL + token.exchangeCodeForTokens (PKCE)', async () => {
              const params: TokenParams = await authClient.token.prepareTokenParams({
                responseType: 'code',
              });
              expect(params.codeVerifier).toEqual(expect.any(String));
              expect(params.codeChallengeMethod).toBe('S256');
              const { authorizeUrl } = getOAuthUrls(authClient);
              const url = `${authorizeUrl}${buildAuthorizeParams({ ...params, sessionToken })}`;
              const response = await fetch(url, { redirect: 'manual' });
              const location = response.headers.get('location') ?? '';
              expect(response.status, location).toBe(302);
              const callback = new URL(location);
              expect(`${callback.origin}${callback.pathname}`).toBe(app.callback);
              expect(callback.searchParams.get('state')).toBe(params.state);
              const code = callback.searchParams.get('code');
              expect(code, location).toEqual(expect.any(String));

              const result = await authClient.token.exchangeCodeForTokens({
                ...params,
                authorizationCode: code!,
              });
              expect(result.tokens.accessToken?.accessToken).toEqual(expect.any(String));
              expect(result.tokens.idToken?.claims.sub).toBe(tenant.user.id);
              expect(result.tokens.refreshToken?.refreshToken).toEqual(expect.any(String));
              tokens = result.tokens as typeof tokens;
              authClient.tokenManager.setTokens(result.tokens);
            });

            it('token.verify(idToken)', async () => {
              const verified = await authClient.token.verify(
                made(tokens, 'exchangeCodeForTokens').idToken,
              );
              expect(verified.claims).toMatchObject({
                iss: tenant.issuer,
                aud: clientId,
                sub: tenant.user.id,
              });
            });

            it('token.getUserInfo(accessToken, idToken)', async () => {
              const user = await authClient.token.getUserInfo(
                made(tokens, 'exchangeCodeForTokens').accessToken,
                made(tokens, 'exchangeCodeForTokens').idToken,
              );
              expect(user).toMatchObject({
                sub: tenant.user.id,
                email: tenant.user.login,
                name: 'Ada Lovelace',
              });
            });

            it("token.introspect('accessToken') and ('refreshToken')", async () => {
              const access = await authClient.token.introspect(
                TokenKind.ACCESS,
                made(tokens, 'exchangeCodeForTokens').accessToken,
              );
              expect(access).toMatchObject({ active: true, client_id: clientId });
              const refresh = await authClient.token.introspect(
                TokenKind.REFRESH,
                made(tokens, 'exchangeCodeForTokens').refreshToken,
              );
              expect(refresh).toMatchObject({ active: true, client_id: clientId });
            });

            it('token.renewTokens (with the refresh token)', async () => {
              made(tokens, 'exchangeCodeForTokens');
              if (kind === 'web') {
                // auth-js posts a refresh with client_id alone, never the secret (its refresh is
                // for public clients); a confidential client must authenticate at /token (RFC 6749
                // section 6), so Okta answers invalid_client, and so does Gatehouse.
                await expect(authClient.token.renewTokens()).rejects.toMatchObject({
                  errorCode: 'invalid_client',
                });
                return;
              }
              const renewed = await authClient.token.renewTokens();
              expect(renewed.accessToken?.accessToken).toEqual(expect.any(String));
              expect(renewed.accessToken?.accessToken).not.toBe(
                made(tokens, 'exchangeCodeForTokens').accessToken.accessToken,
              );
              expect(renewed.refreshToken?.refreshToken).toEqual(expect.any(String));
              authClient.tokenManager.setTokens(renewed);
              tokens = {
                accessToken: renewed.accessToken!,
                idToken: renewed.idToken ?? made(tokens, 'exchangeCodeForTokens').idToken,
                refreshToken:
                  renewed.refreshToken ?? made(tokens, 'exchangeCodeForTokens').refreshToken,
              };
            });

            it('revokeAccessToken', async () => {
              await authClient.revokeAccessToken(made(tokens, 'exchangeCodeForTokens').accessToken);
              const userinfo = await fetch(`${tenant.issuer}/v1/userinfo`, {
                headers: {
                  authorization: `Bearer ${made(tokens, 'exchangeCodeForTokens').accessToken.accessToken}`,
                },
              });
              expect(userinfo.status).toBe(401);
            });

            it('revokeRefreshToken', async () => {
              await authClient.revokeRefreshToken(
                made(tokens, 'exchangeCodeForTokens').refreshToken,
              );
              const web = await connect(tenant, app);
              const response = await fetch(web.web.serverMetadata().token_endpoint!, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({
                  grant_type: 'refresh_token',
                  refresh_token: made(tokens, 'exchangeCodeForTokens').refreshToken.refreshToken,
                  client_id: clientId,
                  ...(kind === 'web' ? { client_secret: tenant.web.clientSecret } : {}),
                }),
              });
              expect(response.status).toBe(400);
              expect(((await response.json()) as Json).error).toBe('invalid_grant');
            });

            it('closeSession() without an Okta session (Node has no cookie) -> false', async () => {
              await expect(authClient.closeSession()).resolves.toBe(false);
            });
          },
        );
      }
    });

    describe('@okta/jwt-verifier', () => {
      let accessToken: string;
      let idToken: string;
      let nonce: string;
      let verifier: OktaJwtVerifier;

      beforeAll(async () => {
        const tokens = await (await connect(tenant, app)).codeFlowTokens();
        accessToken = tokens.access_token;
        idToken = tokens.id_token!;
        nonce = tokens.claims()!.nonce as string;
      });

      it('new OktaJwtVerifier({ issuer }) (README)', () => {
        verifier = new OktaJwtVerifier({
          issuer: tenant.issuer,
          clientId: tenant.web.clientId,
          // The targets listen on http://127.0.0.1 (Okta's orgs are https only).
          testing: { disableHttpsCheck: true },
        });
      });

      it("verifyAccessToken(token, 'api://default')", async () => {
        const jwt = await verifier.verifyAccessToken(accessToken, 'api://default');
        expect(jwt.claims).toMatchObject({
          iss: tenant.issuer,
          aud: 'api://default',
          cid: tenant.web.clientId,
          uid: tenant.user.id,
        });
        await expect(verifier.verifyAccessToken(accessToken, 'api://other')).rejects.toThrow();
      });

      it('verifyIdToken(token, clientId, nonce)', async () => {
        const jwt = await verifier.verifyIdToken(idToken, tenant.web.clientId, nonce);
        expect(jwt.claims).toMatchObject({
          iss: tenant.issuer,
          aud: tenant.web.clientId,
          sub: tenant.user.id,
          nonce,
        });
        await expect(
          verifier.verifyIdToken(idToken, tenant.web.clientId, 'other'),
        ).rejects.toThrow();
      });
    });

    describe('@okta/oidc-middleware', () => {
      let browser: Browser;
      let server: Server;
      let appBaseUrl: string;
      let handler: express.Express | undefined;
      let oidc: InstanceType<typeof oidcMiddleware.ExpressOIDC>;

      beforeAll(async () => {
        browser = await launchChromium();
        // The app listens first: its callback URL (with the port) is registered with the client.
        server = createServer((req, res) => {
          if (handler) handler(req, res);
          else res.writeHead(503).end();
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        appBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await browser?.close();
        server?.close();
      });

      it('ExpressOIDC + express-session + oidc.router, ready (README usage)', async () => {
        const as = tenantApi(target, tenant);
        const registered = await as('POST', '/oauth2/v1/clients', {
          client_name: 'oidc-middleware app',
          application_type: 'web',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${appBaseUrl}/authorization-code/callback`],
          post_logout_redirect_uris: [`${appBaseUrl}/`],
          consent_method: 'TRUSTED',
        });
        await as('PUT', `/api/v1/apps/${registered.client_id as string}/users/${tenant.user.id}`);

        const expressApp = express();
        oidc = new oidcMiddleware.ExpressOIDC({
          issuer: tenant.issuer,
          client_id: registered.client_id as string,
          client_secret: registered.client_secret as string,
          appBaseUrl,
          scope: 'openid profile email',
          testing: { disableHttpsCheck: true },
        });
        expressApp.use(
          session({
            secret: randomBytes(16).toString('hex'),
            resave: true,
            saveUninitialized: false,
          }),
        );
        expressApp.use(oidc.router);
        expressApp.get('/', (req, res) => {
          const context = (req as { userContext?: { userinfo: Json } }).userContext;
          res.send(context ? `Hello ${context.userinfo.name as string}!` : 'Please login');
        });
        expressApp.get('/protected', oidc.ensureAuthenticated(), (req, res) => {
          const context = (req as { userContext?: { userinfo: Json; tokens: Json } }).userContext!;
          res.json({ userinfo: context.userinfo, tokens: context.tokens });
        });
        const ready = new Promise<void>((resolve, reject) => {
          oidc.on('ready', () => resolve());
          oidc.on('error', reject);
        });
        await ready;
        handler = expressApp;
      });

      it('ensureAuthenticated: an anonymous JSON request gets 401', async () => {
        const response = await fetch(`${appBaseUrl}/protected`, {
          headers: { accept: 'application/json' },
        });
        expect(response.status).toBe(401);
      });

      it('/login -> hosted sign-in -> /authorization-code/callback; userContext on a protected route', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${appBaseUrl}/protected`);
        await signInInBrowser(page, tenant.user.login, password);
        await page.waitForURL(`${appBaseUrl}/protected`);
        const body = JSON.parse((await page.locator('body').textContent()) ?? '{}') as {
          userinfo: Json;
          tokens: Json;
        };
        expect(body.userinfo).toMatchObject({
          sub: tenant.user.id,
          name: 'Ada Lovelace',
          email: tenant.user.login,
        });
        expect(body.tokens.access_token).toEqual(expect.any(String));
        expect(body.tokens.id_token).toEqual(expect.any(String));
        await page.goto(`${appBaseUrl}/`);
        expect(await page.locator('body').textContent()).toContain('Hello Ada Lovelace!');
        await context.close();
      });
    });
  });
}
