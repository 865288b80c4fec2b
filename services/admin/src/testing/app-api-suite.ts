// Okta's Apps API (`oidc_client` apps) end to end, on both stacks: the same clients as
// /oauth2/v1/clients, in Okta's app model, with their lifecycle, assignments and collections.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';
import { clientEvents, dataOf, opened } from './client-secrets.js';

/** An app as @okta/okta-sdk-nodejs sends it (`createApplication` with an OpenIdConnectApplication). */
const oidcApp = (label: string, oauthClient: Record<string, unknown> = {}) => ({
  name: 'oidc_client',
  label,
  signOnMode: 'OPENID_CONNECT',
  credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
  settings: {
    oauthClient: {
      redirect_uris: ['https://app.example.com/cb'],
      post_logout_redirect_uris: ['https://app.example.com/'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      application_type: 'web',
      ...oauthClient,
    },
  },
});

/** An app that signs client assertions (private_key_jwt), with its keys in `oauthClient`. */
const signingApp = (label: string, oauthClient: Record<string, unknown>) => ({
  ...oidcApp(label, {
    redirect_uris: [],
    post_logout_redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials'],
    application_type: 'service',
    ...oauthClient,
  }),
  credentials: { oauthClient: { token_endpoint_auth_method: 'private_key_jwt' } },
});
const ecKey = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid: 'ec-1',
  use: 'sig',
  alg: 'ES256',
};

/** The targets of a Link header, by rel. */
const linksOf = (header: string | null): Record<string, string> =>
  Object.fromEntries(
    [...(header ?? '').matchAll(/<([^>]+)>;\s*rel="([^"]+)"/g)].map((m) => [m[2]!, m[1]!]),
  );

export function describeAppApi(harness: AdminHarness): void {
  describe(`apps API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('creates an oidc_client app (TRUSTED consent by default) that /oauth2/v1/clients shows too', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const created = await acme.as('POST', '/api/v1/apps', oidcApp('Portal'));
      expect(created.status).toBe(200);
      const id = created.body.id;
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^0oa[0-9A-Za-z]{17}$/),
        name: 'oidc_client',
        label: 'Portal',
        status: 'ACTIVE',
        signOnMode: 'OPENID_CONNECT',
        credentials: {
          oauthClient: {
            client_id: id,
            client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
            token_endpoint_auth_method: 'client_secret_basic',
            autoKeyRotation: true,
          },
        },
        settings: {
          oauthClient: {
            redirect_uris: ['https://app.example.com/cb'],
            post_logout_redirect_uris: ['https://app.example.com/'],
            response_types: ['code'],
            grant_types: ['authorization_code'],
            application_type: 'web',
            consent_method: 'TRUSTED',
          },
        },
        _links: {
          self: { href: `http://localhost:9000/${acme.id}/api/v1/apps/${id}` },
          users: { href: `http://localhost:9000/${acme.id}/api/v1/apps/${id}/users` },
          deactivate: {
            href: `http://localhost:9000/${acme.id}/api/v1/apps/${id}/lifecycle/deactivate`,
          },
        },
      });
      expect(Date.parse(created.body.created)).toBeGreaterThan(Date.now() - 60_000);
      // Read your writes: the next call sees it, in both views, without the secret.
      const read = await acme.as('GET', `/api/v1/apps/${id}`);
      expect(read.status).toBe(200);
      expect(read.body.credentials.oauthClient.client_secret).toBeUndefined();
      expect(read.body.settings).toEqual(created.body.settings);
      const client = await acme.as('GET', `/oauth2/v1/clients/${id}`);
      expect(client.body).toMatchObject({
        client_id: id,
        client_name: 'Portal',
        consent_method: 'TRUSTED',
      });
      // And a client registered there is an app here, with REQUIRED consent (seed 001).
      const registered = await acme.as('POST', '/oauth2/v1/clients', {
        client_name: 'Registered',
        redirect_uris: ['https://r.example.com/cb'],
      });
      const asApp = await acme.as('GET', `/api/v1/apps/${registered.body.client_id}`);
      expect(asApp.status).toBe(200);
      expect(asApp.body).toMatchObject({
        label: 'Registered',
        settings: { oauthClient: { consent_method: 'REQUIRED' } },
      });
    });

    it('creates a client_secret_jwt app, and seals the secret of it and of a client_secret_basic one', async () => {
      const { newTenant, bus, keks } = await start();
      const acme = await newTenant();
      const jwt = await acme.as('POST', '/api/v1/apps', {
        ...oidcApp('Assertions'),
        credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_jwt' } },
      });
      expect(jwt.status).toBe(200);
      expect(jwt.body.credentials.oauthClient).toMatchObject({
        token_endpoint_auth_method: 'client_secret_jwt',
        client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const basic = (await acme.as('POST', '/api/v1/apps', oidcApp('Portal'))).body;
      for (const app of [jwt.body, basic]) {
        const [event] = await clientEvents(bus, app.id);
        const registered = dataOf(event, 'gatehouse.events.v1.ClientRegistered');
        expect(opened(registered.clientSecretSealed, keks, acme.id, app.id)).toBe(
          app.credentials.oauthClient.client_secret,
        );
      }
    });

    it('creates a public browser app without a secret, and an inactive one with activate=false', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const spa = await acme.as('POST', '/api/v1/apps', {
        ...oidcApp('SPA', {
          application_type: 'browser',
          redirect_uris: ['http://localhost:3000/cb'],
        }),
        credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
      });
      expect(spa.status).toBe(200);
      expect(spa.body.credentials.oauthClient).toEqual({
        autoKeyRotation: true,
        client_id: spa.body.id,
        token_endpoint_auth_method: 'none',
      });
      const inactive = await acme.as('POST', '/api/v1/apps?activate=false', oidcApp('Later'));
      expect(inactive.body.status).toBe('INACTIVE');
      expect(inactive.body._links.activate).toBeDefined();
    });

    it('refuses unsupported app types and bad settings with Okta validation errors', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const bookmark = await acme.as('POST', '/api/v1/apps', {
        name: 'bookmark',
        label: 'Bookmark',
        signOnMode: 'BOOKMARK',
        settings: { app: { url: 'https://example.com' } },
      });
      expect(bookmark.status).toBe(400);
      expect(bookmark.body).toMatchObject({
        errorCode: 'E0000001',
        errorSummary: 'Api validation failed: name',
        errorId: expect.any(String),
      });
      expect(bookmark.body.errorCauses[0].errorSummary).toMatch(
        /^name: "bookmark" apps are not supported: .*oidc_client/,
      );
      const saml = await acme.as('POST', '/api/v1/apps', {
        ...oidcApp('S'),
        name: 'saml_2_0',
        signOnMode: 'SAML_2_0',
      });
      expect(saml.status).toBe(400);
      expect(saml.body.errorCauses.map((c: { errorSummary: string }) => c.errorSummary)).toEqual([
        expect.stringMatching(/^name: "saml_2_0" apps are not supported/),
        expect.stringMatching(/^signOnMode: "SAML_2_0" is not supported/),
      ]);
      const noLabel = await acme.as('POST', '/api/v1/apps', { ...oidcApp('x'), label: undefined });
      expect(noLabel.status).toBe(400);
      expect(noLabel.body.errorCauses).toEqual([{ errorSummary: "label: 'label' is required" }]);
      const badRedirect = await acme.as(
        'POST',
        '/api/v1/apps',
        oidcApp('Bad', { redirect_uris: ['http://evil.example/cb'] }),
      );
      expect(badRedirect.status).toBe(400);
      expect(badRedirect.body.errorSummary).toBe(
        'Api validation failed: settings.oauthClient.redirect_uris',
      );
      const customId = await acme.as('POST', '/api/v1/apps', {
        ...oidcApp('Custom'),
        credentials: { oauthClient: { client_id: 'my-own-id' } },
      });
      expect(customId.status).toBe(400);
      const noSettings = await acme.as('POST', '/api/v1/apps', { name: 'oidc_client', label: 'N' });
      expect(noSettings.status).toBe(400);
      expect(noSettings.body.errorSummary).toBe('Api validation failed: settings.oauthClient');
      expect((await acme.as('GET', '/api/v1/apps')).body).toEqual([]);
    });

    it('replaces an app, keeping its consent when left out and its id fixed', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const registered = await acme.as('POST', '/oauth2/v1/clients', {
        client_name: 'Registered',
        redirect_uris: ['https://r.example.com/cb'],
      });
      const id = registered.body.client_id;
      const app = (await acme.as('GET', `/api/v1/apps/${id}`)).body;
      const { consent_method: _, ...withoutConsent } = app.settings.oauthClient;
      const replaced = await acme.as('PUT', `/api/v1/apps/${id}`, {
        ...app,
        label: 'Renamed',
        settings: {
          ...app.settings,
          oauthClient: { ...withoutConsent, redirect_uris: ['https://r.example.com/cb2'] },
        },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        id,
        label: 'Renamed',
        settings: {
          oauthClient: { redirect_uris: ['https://r.example.com/cb2'], consent_method: 'REQUIRED' },
        },
      });
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).body.client_name).toBe('Renamed');
      const otherId = await acme.as('PUT', `/api/v1/apps/${id}`, {
        ...app,
        credentials: {
          oauthClient: { ...app.credentials.oauthClient, client_id: '0oaOTHER000000000000' },
        },
      });
      expect(otherId.status).toBe(400);
      const toPublic = await acme.as('PUT', `/api/v1/apps/${id}`, {
        ...app,
        credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
        settings: { oauthClient: { ...app.settings.oauthClient, application_type: 'native' } },
      });
      expect(toPublic.status).toBe(400);
      expect(toPublic.body.errorCode).toBe('E0000001');
      expect(toPublic.body.errorSummary).toBe(
        'Api validation failed: credentials.oauthClient.token_endpoint_auth_method',
      );
      expect((await acme.as('PUT', '/api/v1/apps/0oaNOSUCHAPP00000000', app)).status).toBe(404);
    });

    it("creates and replaces a private_key_jwt app with its keys in settings.oauthClient, as Okta's SDK sends them", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const created = await acme.as(
        'POST',
        '/api/v1/apps',
        signingApp('Signer', { jwks: { keys: [ecKey] } }),
      );
      expect(created.status).toBe(200);
      const id = created.body.id;
      expect(created.body.credentials.oauthClient).toEqual({
        autoKeyRotation: true,
        client_id: id,
        token_endpoint_auth_method: 'private_key_jwt',
      });
      expect(created.body.settings.oauthClient).toMatchObject({
        application_type: 'service',
        jwks: { keys: [ecKey] },
      });
      expect(created.body.settings.oauthClient).not.toHaveProperty('jwks_uri');
      const read = (await acme.as('GET', `/api/v1/apps/${id}`)).body;
      expect(read.settings).toEqual(created.body.settings);
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).body.jwks).toEqual({
        keys: [ecKey],
      });

      // The app as read, sent back: the same keys; then its keys moved to a jwks_uri.
      const same = await acme.as('PUT', `/api/v1/apps/${id}`, read);
      expect(same.status).toBe(200);
      expect(same.body.settings).toEqual(read.settings);
      const { jwks: _, ...withoutKeys } = read.settings.oauthClient;
      const moved = await acme.as('PUT', `/api/v1/apps/${id}`, {
        ...read,
        settings: {
          ...read.settings,
          oauthClient: { ...withoutKeys, jwks_uri: 'https://signer.example/jwks' },
        },
      });
      expect(moved.status).toBe(200);
      expect(moved.body.settings.oauthClient).toMatchObject({
        jwks_uri: 'https://signer.example/jwks',
      });
      expect(moved.body.settings.oauthClient).not.toHaveProperty('jwks');
    });

    it('names the app fields of a private_key_jwt app that gives no usable keys', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const privateKeys = await acme.as(
        'POST',
        '/api/v1/apps',
        signingApp('Careless', { jwks: { keys: [privateKey.export({ format: 'jwk' })] } }),
      );
      expect(privateKeys.status).toBe(400);
      expect(privateKeys.body.errorSummary).toBe(
        'Api validation failed: settings.oauthClient.jwks',
      );
      expect(privateKeys.body.errorCauses).toEqual([
        {
          errorSummary:
            "settings.oauthClient.jwks: 'settings.oauthClient.jwks' keys[0] holds private key material (d): private keys must never be sent, only public ones; replace this key pair",
        },
      ]);
      const noKeys = await acme.as('POST', '/api/v1/apps', signingApp('Keyless', {}));
      expect(noKeys.body.errorCauses).toEqual([
        {
          errorSummary:
            "settings.oauthClient.jwks: a private_key_jwt client must give its public keys, in 'settings.oauthClient.jwks' or at 'settings.oauthClient.jwks_uri'",
        },
      ]);
      const badUri = await acme.as(
        'POST',
        '/api/v1/apps',
        signingApp('Insecure', { jwks_uri: 'http://signer.example/jwks' }),
      );
      expect(badUri.body.errorCauses).toEqual([
        {
          errorSummary:
            "settings.oauthClient.jwks_uri: 'settings.oauthClient.jwks_uri' must use https (http is allowed only for localhost)",
        },
      ]);
      expect((await acme.as('GET', '/api/v1/apps')).body).toEqual([]);
    });

    it('deletes only a deactivated app (403 E0000056 while active), from both views', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const id = (await acme.as('POST', '/api/v1/apps', oidcApp('Doomed'))).body.id;
      const refused = await acme.as('DELETE', `/api/v1/apps/${id}`);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        errorCode: 'E0000056',
        errorSummary: 'Delete application forbidden.',
      });
      expect((await acme.as('GET', `/api/v1/apps/${id}`)).body.status).toBe('ACTIVE');
      expect((await acme.as('POST', `/api/v1/apps/${id}/lifecycle/deactivate`)).status).toBe(200);
      expect((await acme.as('GET', `/api/v1/apps/${id}`)).body.status).toBe('INACTIVE');
      expect((await acme.as('DELETE', `/api/v1/apps/${id}`)).status).toBe(204);
      const gone = await acme.as('GET', `/api/v1/apps/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.errorCode).toBe('E0000007');
      expect((await acme.as('GET', `/oauth2/v1/clients/${id}`)).status).toBe(404);
      expect((await acme.as('GET', '/api/v1/apps')).body).toEqual([]);
      expect((await acme.as('DELETE', `/api/v1/apps/${id}`)).status).toBe(404);
    });

    it('lists apps in pages with limit, an opaque after, Link headers, q and filter', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const globex = await newTenant();
      await globex.as('POST', '/api/v1/apps', oidcApp('Elsewhere'));
      const labels = ['Alpha', 'Alps', 'Beta', 'Gamma', 'Delta'];
      const ids: string[] = [];
      for (const label of labels)
        ids.push((await acme.as('POST', '/api/v1/apps', oidcApp(label))).body.id);
      await acme.as('POST', `/api/v1/apps/${ids[2]}/lifecycle/deactivate`);

      const all = await acme.as('GET', '/api/v1/apps');
      expect(all.status).toBe(200);
      expect(all.body.map((app: { id: string }) => app.id).sort()).toEqual([...ids].sort());
      expect(linksOf(all.headers.get('link'))).toEqual({
        self: `http://localhost:9000/${acme.id}/api/v1/apps`,
      });

      const seen: string[] = [];
      let path: string | undefined = '/api/v1/apps?limit=2';
      let pages = 0;
      while (path) {
        const page = await acme.as('GET', path);
        expect(page.status).toBe(200);
        expect(page.body.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.map((app: { id: string }) => app.id));
        const links = linksOf(page.headers.get('link'));
        expect(links.self).toBe(`http://localhost:9000/${acme.id}${path}`);
        path = links.next?.replace(`http://localhost:9000/${acme.id}`, '');
        if (path) expect(new URL(`http://x${path}`).searchParams.get('limit')).toBe('2');
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].sort());

      const q = await acme.as('GET', '/api/v1/apps?q=al');
      expect(q.body.map((app: { label: string }) => app.label).sort()).toEqual(['Alpha', 'Alps']);
      const inactive = await acme.as(
        'GET',
        `/api/v1/apps?filter=${encodeURIComponent('status eq "INACTIVE"')}`,
      );
      expect(inactive.body.map((app: { label: string }) => app.label)).toEqual(['Beta']);
      const active = await acme.as(
        'GET',
        `/api/v1/apps?filter=${encodeURIComponent('status eq "ACTIVE"')}&q=a`,
      );
      expect(active.body.map((app: { label: string }) => app.label).sort()).toEqual([
        'Alpha',
        'Alps',
      ]);
      const bad = await acme.as('GET', `/api/v1/apps?filter=${encodeURIComponent('label sw "A"')}`);
      expect(bad.status).toBe(400);
      expect(bad.body.errorCode).toBe('E0000031');
      expect((await acme.as('GET', '/api/v1/apps?after=%21%21')).status).toBe(400);
      expect((await acme.as('GET', '/api/v1/apps?limit=many')).status).toBe(400);
    });

    it("assigns users Okta's way (POST {id}) and lists, reads and removes assignments", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const id = (await acme.as('POST', '/api/v1/apps', oidcApp('Portal'))).body.id;
      const newUser = async (login: string) =>
        (
          await acme.as('POST', '/api/v1/users', {
            profile: { login, email: login, firstName: 'A', lastName: 'B' },
          })
        ).body;
      const ada = await newUser('ada@example.com');
      const grace = await newUser('grace@example.com');
      const alan = await newUser('alan@example.com');
      const assigned = await acme.as('POST', `/api/v1/apps/${id}/users`, {
        id: ada.id,
        scope: 'USER',
        credentials: { userName: 'ada@example.com' },
      });
      expect(assigned.status).toBe(200);
      expect(assigned.body).toMatchObject({
        id: ada.id,
        scope: 'USER',
        status: 'ACTIVE',
        credentials: { userName: 'ada@example.com' },
        _links: { app: { href: `http://localhost:9000/${acme.id}/api/v1/apps/${id}` } },
      });
      await acme.as('POST', `/api/v1/apps/${id}/users`, { id: grace.id });
      expect((await acme.as('POST', `/api/v1/apps/${id}/users`, {})).body.errorCode).toBe(
        'E0000001',
      );
      expect(
        (await acme.as('POST', `/api/v1/apps/${id}/users`, { id: '00uNOSUCHUSER0000000' })).status,
      ).toBe(404);

      await acme.as('POST', '/api/v1/apps', oidcApp('Unassigned'));
      const adaApps = await acme.as(
        'GET',
        `/api/v1/apps?filter=${encodeURIComponent(`user.id eq "${ada.id}"`)}`,
      );
      expect(adaApps.body.map((app: { id: string }) => app.id)).toEqual([id]);
      const listed = await acme.as('GET', `/api/v1/apps/${id}/users`);
      expect(listed.body.map((u: { id: string }) => u.id)).toEqual([ada.id, grace.id].sort());
      const first = await acme.as('GET', `/api/v1/apps/${id}/users?limit=1`);
      expect(first.body).toHaveLength(1);
      const next = linksOf(first.headers.get('link')).next!;
      const second = await acme.as('GET', next.replace(`http://localhost:9000/${acme.id}`, ''));
      expect([...first.body, ...second.body].map((u: { id: string }) => u.id)).toEqual(
        [ada.id, grace.id].sort(),
      );
      expect(linksOf(second.headers.get('link')).next).toBeUndefined();

      const one = await acme.as('GET', `/api/v1/apps/${id}/users/${ada.id}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: ada.id, scope: 'USER' });
      const notAssigned = await acme.as('GET', `/api/v1/apps/${id}/users/${alan.id}`);
      expect(notAssigned.status).toBe(404);
      expect(notAssigned.body.errorCode).toBe('E0000007');
      // Through a group, a user is the app's with scope GROUP.
      const group = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Eng' } })).body;
      await acme.as('PUT', `/api/v1/groups/${group.id}/users/${alan.id}`);
      await acme.as('PUT', `/api/v1/apps/${id}/groups/${group.id}`);
      expect((await acme.as('GET', `/api/v1/apps/${id}/users/${alan.id}`)).body).toMatchObject({
        id: alan.id,
        scope: 'GROUP',
      });

      expect((await acme.as('DELETE', `/api/v1/apps/${id}/users/${ada.id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/apps/${id}/users/${ada.id}`)).status).toBe(404);
      expect(
        (await acme.as('GET', `/api/v1/apps/${id}/users`)).body.map((u: { id: string }) => u.id),
      ).toEqual([grace.id]);
      expect((await acme.as('GET', '/api/v1/apps/0oaNOSUCHAPP00000000/users')).status).toBe(404);
    });

    it('lists, reads and removes group assignments', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const id = (await acme.as('POST', '/api/v1/apps', oidcApp('Portal'))).body.id;
      const eng = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Eng' } })).body;
      const ops = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Ops' } })).body;
      const put = await acme.as('PUT', `/api/v1/apps/${id}/groups/${eng.id}`, {});
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        id: eng.id,
        priority: 0,
        _links: { group: { href: `http://localhost:9000/${acme.id}/api/v1/groups/${eng.id}` } },
      });
      expect((await acme.as('GET', `/api/v1/apps/${id}/groups/${ops.id}`)).status).toBe(404);
      await acme.as('PUT', `/api/v1/apps/${id}/groups/${ops.id}`);
      const listed = await acme.as('GET', `/api/v1/apps/${id}/groups`);
      expect(listed.status).toBe(200);
      expect(listed.body.map((g: { id: string }) => g.id)).toEqual([eng.id, ops.id].sort());
      expect(linksOf(listed.headers.get('link')).self).toBe(
        `http://localhost:9000/${acme.id}/api/v1/apps/${id}/groups`,
      );
      expect((await acme.as('GET', `/api/v1/apps/${id}/groups/${eng.id}`)).body.id).toBe(eng.id);
      expect((await acme.as('DELETE', `/api/v1/apps/${id}/groups/${eng.id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/apps/${id}/groups/${eng.id}`)).status).toBe(404);
      expect(
        (await acme.as('GET', `/api/v1/apps/${id}/groups`)).body.map((g: { id: string }) => g.id),
      ).toEqual([ops.id]);
    });
  });
}
