// Custom authorization servers and scopes end to end, on both stacks.
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

export function describeAuthorizationServerApi(harness: AdminHarness): void {
  describe(`authorization servers API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('gives every tenant the server `default` with audience api://default and the OIDC system scopes', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const server = await acme.as('GET', '/api/v1/authorizationServers/default');
      expect(server.status).toBe(200);
      expect(server.body).toMatchObject({
        id: 'default',
        name: 'default',
        audiences: ['api://default'],
        issuer: `http://localhost:9000/${acme.id}/oauth2/default`,
        issuerMode: 'ORG_URL',
        status: 'ACTIVE',
      });
      const scopes = await acme.as('GET', '/api/v1/authorizationServers/default/scopes');
      expect(scopes.body.map((s: { name: string }) => s.name)).toEqual([
        'address',
        'email',
        'offline_access',
        'openid',
        'phone',
        'profile',
      ]);
      for (const scope of scopes.body)
        expect(scope).toMatchObject({
          system: true,
          consent: 'IMPLICIT',
          metadataPublish: 'ALL_CLIENTS',
          default: false,
          optional: false,
        });
      expect(
        (await acme.as('GET', '/api/v1/authorizationServers')).body.map(
          (s: { id: string }) => s.id,
        ),
      ).toEqual(['default']);
    });

    it('creates, updates, deactivates and then deletes a server', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const created = await acme.as('POST', '/api/v1/authorizationServers', {
        name: 'Orders',
        description: 'Orders API',
        audiences: ['https://api.example.com/orders'],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^aus[0-9A-Za-z]{17}$/),
        name: 'Orders',
        status: 'ACTIVE',
      });
      const id = created.body.id;
      expect(created.body.issuer).toBe(`http://localhost:9000/${acme.id}/oauth2/${id}`);
      // Okta's system scopes, as on the default server, and no policy yet.
      const scopes = await acme.as('GET', `/api/v1/authorizationServers/${id}/scopes`);
      expect(scopes.body.map((s: { name: string }) => s.name)).toEqual([
        'address',
        'email',
        'offline_access',
        'openid',
        'phone',
        'profile',
      ]);
      const defaults = (await acme.as('GET', '/api/v1/authorizationServers/default/scopes')).body;
      for (const scope of scopes.body)
        expect({ ...scope, id: undefined, _links: undefined }).toEqual({
          ...defaults.find((d: { name: string }) => d.name === scope.name),
          id: undefined,
          _links: undefined,
        });
      expect((await acme.as('GET', `/api/v1/authorizationServers/${id}/policies`)).body).toEqual(
        [],
      );
      const updated = await acme.as('PUT', `/api/v1/authorizationServers/${id}`, {
        name: 'Orders v2',
        audiences: ['https://api.example.com/orders'],
      });
      expect(updated.body).toMatchObject({ name: 'Orders v2', description: '' });
      const invalid = await acme.as('POST', '/api/v1/authorizationServers', {
        name: 'No audience',
        audiences: [],
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.errorCauses).toEqual([
        { errorSummary: 'audiences: must hold exactly one audience' },
      ]);

      const early = await acme.as('DELETE', `/api/v1/authorizationServers/${id}`);
      expect(early.status).toBe(403);
      expect(early.body.errorCode).toBe('E0000038');
      expect(
        (await acme.as('POST', `/api/v1/authorizationServers/${id}/lifecycle/deactivate`)).status,
      ).toBe(204);
      expect((await acme.as('GET', `/api/v1/authorizationServers/${id}`)).body.status).toBe(
        'INACTIVE',
      );
      expect((await acme.as('DELETE', `/api/v1/authorizationServers/${id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/authorizationServers/${id}`)).status).toBe(404);
      expect(
        (await acme.as('GET', '/api/v1/authorizationServers')).body.map(
          (s: { id: string }) => s.id,
        ),
      ).toEqual(['default']);
    });

    it("manages scopes under seed 001's name rules, and keeps system scopes fixed", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const base = '/api/v1/authorizationServers/default/scopes';
      const created = await acme.as('POST', base, {
        name: 'orders:read',
        description: 'Read your orders',
        consent: 'REQUIRED',
        default: true,
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^scp[0-9A-Za-z]{17}$/),
        name: 'orders:read',
        description: 'Read your orders',
        system: false,
        metadataPublish: 'NO_CLIENTS',
        consent: 'REQUIRED',
        optional: false,
        default: true,
      });
      for (const [name, status] of [
        ['orders:read', 400],
        ['openid', 400],
        ['has space', 400],
        ['okta.users.read', 400],
        ['*', 400],
      ] as const) {
        const response = await acme.as('POST', base, { name });
        expect(response.status, name).toBe(status);
        expect(response.body.errorCode).toBe('E0000001');
      }
      expect(
        (await acme.as('POST', base, { name: 'x', consent: 'SOMETIMES' })).body.errorCauses,
      ).toEqual([{ errorSummary: 'consent: must be IMPLICIT, REQUIRED or FLEXIBLE' }]);
      const renamed = await acme.as('PUT', `${base}/${created.body.id}`, {
        name: 'orders:list',
        consent: 'FLEXIBLE',
      });
      expect(renamed.body).toMatchObject({
        name: 'orders:list',
        consent: 'FLEXIBLE',
        default: false,
      });
      expect((await acme.as('POST', base, { name: 'orders:read' })).status).toBe(201); // the old name is free again
      const openid = (await acme.as('GET', base)).body.find(
        (s: { name: string }) => s.name === 'openid',
      );
      expect(
        (await acme.as('PUT', `${base}/${openid.id}`, { name: 'openid', description: 'mine' }))
          .status,
      ).toBe(403);
      expect((await acme.as('DELETE', `${base}/${openid.id}`)).status).toBe(403);
      expect((await acme.as('DELETE', `${base}/${created.body.id}`)).status).toBe(204);
      expect((await acme.as('GET', `${base}/${created.body.id}`)).status).toBe(404);
    });

    it('creates one scope when the same name is added by 10 concurrent requests', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          acme.as('POST', '/api/v1/authorizationServers/default/scopes', { name: 'race:scope' }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(9);
    });

    it('starts the default server with a default policy and rule open to every client, grant type and scope', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const policies = await acme.as('GET', '/api/v1/authorizationServers/default/policies');
      expect(policies.body).toEqual([
        {
          id: expect.stringMatching(/^00p/),
          type: 'OAUTH_AUTHORIZATION_POLICY',
          status: 'ACTIVE',
          name: 'Default Policy',
          description: 'Default policy description',
          priority: 1,
          system: false,
          conditions: { clients: { include: ['ALL_CLIENTS'] } },
        },
      ]);
      const everyone = (
        await acme.as('POST', '/api/v1/users', {
          profile: {
            login: 'a@example.com',
            email: 'a@example.com',
            firstName: 'A',
            lastName: 'B',
          },
        })
      ).body;
      const everyoneGroup = (await acme.as('GET', `/api/v1/users/${everyone.id}/groups`)).body[0]
        .id;
      const rules = await acme.as(
        'GET',
        `/api/v1/authorizationServers/default/policies/${policies.body[0].id}/rules`,
      );
      expect(rules.body).toEqual([
        {
          id: expect.stringMatching(/^0pr/),
          type: 'RESOURCE_ACCESS',
          status: 'ACTIVE',
          name: 'Default Policy Rule',
          priority: 1,
          system: false,
          conditions: {
            people: {
              users: { include: [], exclude: [] },
              groups: { include: [everyoneGroup], exclude: [] },
            },
            grantTypes: {
              include: [
                'authorization_code',
                'implicit',
                'client_credentials',
                'urn:ietf:params:oauth:grant-type:token-exchange',
              ],
            },
            scopes: { include: ['*'] },
          },
          actions: {
            token: {
              accessTokenLifetimeMinutes: 60,
              refreshTokenLifetimeMinutes: 129600,
              refreshTokenWindowMinutes: 10080,
            },
          },
        },
      ]);
    });

    it('manages claims: expressions and group filters, reserved names refused, one name per claim type', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const base = '/api/v1/authorizationServers/default/claims';
      const created = await acme.as('POST', base, {
        name: 'mail',
        claimType: 'RESOURCE',
        valueType: 'EXPRESSION',
        value: 'user.email',
        conditions: { scopes: ['email'] },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^ocl/),
        name: 'mail',
        status: 'ACTIVE',
        claimType: 'RESOURCE',
        valueType: 'EXPRESSION',
        value: 'user.email',
        conditions: { scopes: ['email'] },
        system: false,
        alwaysIncludeInToken: true,
      });
      const groups = await acme.as('POST', base, {
        name: 'groups',
        claimType: 'IDENTITY',
        valueType: 'GROUPS',
        value: '.*',
        group_filter_type: 'REGEX',
      });
      expect(groups.body).toMatchObject({ valueType: 'GROUPS', group_filter_type: 'REGEX' });
      expect(
        (await acme.as('POST', base, { name: 'mail', claimType: 'IDENTITY', value: 'user.email' }))
          .status,
      ).toBe(201);
      for (const body of [
        { name: 'mail', claimType: 'RESOURCE', value: 'user.email' },
        { name: 'sub', claimType: 'RESOURCE', value: 'user.email' },
        { name: 'x', claimType: 'RESOURCE', value: 'user.shoeSize' },
        { name: 'y', claimType: 'RESOURCE', value: 'user.email', conditions: { scopes: ['nope'] } },
        // A REGEX group filter that could backtrack for minutes on every token request.
        {
          name: 'z',
          claimType: 'IDENTITY',
          valueType: 'GROUPS',
          value: '(a+)+$',
          group_filter_type: 'REGEX',
        },
      ]) {
        const refused = await acme.as('POST', base, body);
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(refused.body.errorCode).toBe('E0000001');
      }
      const updated = await acme.as('PUT', `${base}/${created.body.id}`, {
        name: 'mail',
        claimType: 'RESOURCE',
        value: '"fixed"',
      });
      expect(updated.body).toMatchObject({ value: '"fixed"', conditions: { scopes: [] } });
      expect((await acme.as('DELETE', `${base}/${created.body.id}`)).status).toBe(204);
      expect((await acme.as('GET', `${base}/${created.body.id}`)).status).toBe(404);
      expect((await acme.as('GET', base)).body.map((c: { name: string }) => c.name)).toEqual([
        'groups',
        'mail',
      ]);
    });

    it('manages policies and rules: clients, people and lifetimes checked, a deleted policy takes its rules', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const client = (
        await acme.as('POST', '/oauth2/v1/clients', {
          client_name: 'Web',
          redirect_uris: ['https://a.example/cb'],
        })
      ).body;
      const base = '/api/v1/authorizationServers/default/policies';
      const policy = await acme.as('POST', base, {
        name: 'Web only',
        conditions: { clients: { include: [client.client_id] } },
      });
      expect(policy.status).toBe(201);
      expect(policy.body).toMatchObject({
        priority: 2,
        conditions: { clients: { include: [client.client_id] } },
      });
      expect(
        (
          await acme.as('POST', base, {
            name: 'Ghost',
            conditions: { clients: { include: ['0oaNOSUCHCLIENT00000'] } },
          })
        ).status,
      ).toBe(400);
      const rules = `${base}/${policy.body.id}/rules`;
      const rule = await acme.as('POST', rules, {
        name: 'Short tokens',
        conditions: {
          grantTypes: { include: ['authorization_code'] },
          scopes: { include: ['openid', 'email'] },
        },
        actions: {
          token: {
            accessTokenLifetimeMinutes: 5,
            refreshTokenLifetimeMinutes: 60,
            refreshTokenWindowMinutes: 10,
          },
        },
      });
      expect(rule.status).toBe(201);
      expect(rule.body).toMatchObject({
        priority: 1,
        actions: { token: { accessTokenLifetimeMinutes: 5 } },
        conditions: { scopes: { include: ['openid', 'email'] } },
      });
      // Okta's literal EVERYONE: every user of the tenant, answered back as sent.
      const everyone = await acme.as('POST', rules, {
        name: 'Everyone',
        priority: 2,
        conditions: {
          grantTypes: { include: ['authorization_code'] },
          people: { groups: { include: ['EVERYONE'] } },
        },
      });
      expect(everyone.status).toBe(201);
      expect(everyone.body.conditions.people).toEqual({
        users: { include: [], exclude: [] },
        groups: { include: ['EVERYONE'], exclude: [] },
      });
      expect(
        (await acme.as('GET', `${rules}/${everyone.body.id}`)).body.conditions.people.groups,
      ).toEqual({ include: ['EVERYONE'], exclude: [] });
      for (const body of [
        {
          name: 'Too short',
          conditions: { grantTypes: { include: ['authorization_code'] } },
          actions: { token: { accessTokenLifetimeMinutes: 4 } },
        },
        {
          name: 'Tiny window',
          conditions: { grantTypes: { include: ['implicit'] } },
          actions: { token: { refreshTokenWindowMinutes: 5 } },
        },
        {
          name: 'Nobody',
          conditions: {
            grantTypes: { include: ['implicit'] },
            people: { groups: { include: ['00gNOSUCHGROUP000000'] } },
          },
        },
        { name: 'No grants', conditions: { grantTypes: { include: [] } } },
      ]) {
        const refused = await acme.as('POST', rules, body);
        expect(refused.status, body.name).toBe(400);
      }
      expect((await acme.as('DELETE', `${base}/${policy.body.id}`)).status).toBe(204);
      expect((await acme.as('GET', `${rules}/${rule.body.id}`)).status).toBe(404);
      expect((await acme.as('GET', base)).body.map((p: { name: string }) => p.name)).toEqual([
        'Default Policy',
      ]);
    });

    it("keeps one tenant's servers out of another's reach", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const globex = await newTenant();
      const id = (
        await acme.as('POST', '/api/v1/authorizationServers', {
          name: 'Private',
          audiences: ['api://private'],
        })
      ).body.id;
      expect((await globex.as('GET', `/api/v1/authorizationServers/${id}`)).status).toBe(404);
      expect(
        (await globex.as('GET', '/api/v1/authorizationServers')).body.map(
          (s: { id: string }) => s.id,
        ),
      ).toEqual(['default']);
    });
  });
}
