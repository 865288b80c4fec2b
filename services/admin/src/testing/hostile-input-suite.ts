// Malformed input at every write endpoint: always a 4xx in Okta's (or RFC 7591's) error shape, never a
// 500, never a stack trace.
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

const bodies: unknown[] = [
  null,
  [],
  'text',
  42,
  {},
  {
    profile: 5,
    credentials: 'x',
    name: [],
    audiences: 'api',
    client_name: {},
    redirect_uris: [1, 2],
    conditions: 'all',
  },
  {
    profile: { login: { nested: true } },
    name: { $gt: '' },
    priority: -1,
    actions: { token: { accessTokenLifetimeMinutes: 1e308 } },
  },
  {
    name: '\u0000\u0007',
    profile: { name: '\u0000' },
    conditions: { scopes: ['\u0000'], clients: { include: [null] } },
  },
  { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } },
];

export function describeHostileInput(harness: AdminHarness): void {
  describe(`hostile input: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('answers every malformed write with a 4xx error body and no stack trace', async () => {
      const { newTenant, call } = await startAdmin(harness, cleanups);
      const acme = await newTenant();
      const user = (
        await acme.as('POST', '/api/v1/users', {
          profile: {
            login: 'a@example.com',
            email: 'a@example.com',
            firstName: 'A',
            lastName: 'B',
          },
        })
      ).body;
      const group = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'G' } })).body;
      const client = (
        await acme.as('POST', '/oauth2/v1/clients', {
          client_name: 'W',
          redirect_uris: ['https://a.example/cb'],
        })
      ).body;
      const policy = (await acme.as('GET', '/api/v1/authorizationServers/default/policies'))
        .body[0];
      const scope = (await acme.as('GET', '/api/v1/authorizationServers/default/scopes')).body[0];
      const targets: [string, string][] = [
        ['POST', '/api/v1/users'],
        ['POST', `/api/v1/users/${user.id}`],
        ['POST', '/api/v1/groups'],
        ['POST', '/oauth2/v1/clients'],
        ['PUT', `/oauth2/v1/clients/${client.client_id}`],
        ['POST', '/api/v1/authorizationServers'],
        ['PUT', '/api/v1/authorizationServers/default'],
        ['POST', '/api/v1/authorizationServers/default/scopes'],
        ['PUT', `/api/v1/authorizationServers/default/scopes/${scope.id}`],
        ['POST', '/api/v1/authorizationServers/default/claims'],
        ['POST', '/api/v1/authorizationServers/default/policies'],
        ['PUT', `/api/v1/authorizationServers/default/policies/${policy.id}`],
        ['POST', `/api/v1/authorizationServers/default/policies/${policy.id}/rules`],
      ];
      let checked = 0;
      for (const [method, path] of targets) {
        for (const body of bodies) {
          const response = await acme.as(method, path, JSON.stringify(body));
          const where = `${method} ${path} ${JSON.stringify(body)}`;
          expect(response.status, where).toBeGreaterThanOrEqual(400);
          expect(response.status, where).toBeLessThan(500);
          expect(JSON.stringify(response.body), where).not.toMatch(
            /\bat [\w.<>]+ \(|node:internal|\.ts:\d+/,
          );
          expect(response.body.errorCode ?? response.body.error, where).toBeDefined();
          checked += 1;
        }
      }
      // Odd ids and paths in every position.
      for (const path of [
        `/api/v1/users/${'x'.repeat(5000)}`,
        '/api/v1/users/%00',
        `/api/v1/groups/${group.id}/users/..%2f..%2f`,
        '/api/v1/apps/0oa/users/00u',
        '/api/v1/authorizationServers/default/policies/../rules',
      ]) {
        const response = await acme.as('GET', path);
        expect(response.status, path).toBeGreaterThanOrEqual(400);
        expect(response.status, path).toBeLessThan(500);
      }
      const system = await call(
        'POST',
        '/api/v1/tenants',
        JSON.stringify({ id: { $ne: null }, name: ['x'] }),
      );
      expect(system.status).toBe(400);
      expect(checked).toBe(targets.length * bodies.length);
    });
  });
}
