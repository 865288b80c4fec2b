// The user profile schema API (custom attributes) and users carrying them, on both stacks.
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

const path = '/api/v1/meta/schemas/user/default';
const base = {
  login: 'ada@example.com',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'L',
};

export function describeUserSchemaApi(harness: AdminHarness): void {
  describe(`user profile schema API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('answers the schema, adds, changes and removes custom attributes', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const initial = await acme.as('GET', path);
      expect(initial.status).toBe(200);
      expect(initial.body).toMatchObject({
        id: `http://localhost:9000/${acme.id}/meta/schemas/user/default`,
        $schema: 'http://json-schema.org/draft-04/schema#',
        name: 'user',
        title: 'User',
        type: 'object',
        definitions: {
          custom: { id: '#custom', type: 'object', properties: {}, required: [] },
          base: {
            id: '#base',
            type: 'object',
            required: ['login', 'email', 'firstName', 'lastName'],
          },
        },
        properties: {
          profile: { allOf: [{ $ref: '#/definitions/custom' }, { $ref: '#/definitions/base' }] },
        },
      });
      expect(initial.body.definitions.base.properties.mobilePhone).toMatchObject({
        title: 'Mobile phone',
        type: 'string',
        maxLength: 100,
      });
      const added = await acme.as('POST', path, {
        definitions: {
          custom: {
            id: '#custom',
            type: 'object',
            properties: {
              team: {
                title: 'Team',
                description: 'Where they work',
                type: 'string',
                minLength: 2,
                maxLength: 20,
                required: true,
                permissions: [{ principal: 'SELF', action: 'READ_ONLY' }],
              },
              tier: { title: 'Tier', type: 'integer', enum: [1, 2, 3] },
              skills: { title: 'Skills', type: 'array', items: { type: 'string' } },
            },
            required: [],
          },
        },
      });
      expect(added.status).toBe(200);
      expect(added.body.definitions.custom).toEqual({
        id: '#custom',
        type: 'object',
        properties: {
          skills: { title: 'Skills', type: 'array', items: { type: 'string' } },
          team: {
            title: 'Team',
            description: 'Where they work',
            type: 'string',
            minLength: 2,
            maxLength: 20,
            required: true,
            permissions: [{ principal: 'SELF', action: 'READ_ONLY' }],
          },
          tier: { title: 'Tier', type: 'integer', enum: [1, 2, 3] },
        },
        required: ['team'],
      });
      expect((await acme.as('GET', path)).body).toEqual(added.body);
      // What an SDK sends back after reading the schema: base and read-only fields are ignored.
      const resent = await acme.as('POST', path, {
        ...added.body,
        definitions: {
          ...added.body.definitions,
          custom: {
            ...added.body.definitions.custom,
            properties: { tier: null, vip: { title: 'VIP', type: 'boolean' } },
          },
        },
      });
      expect(resent.status).toBe(200);
      expect(Object.keys(resent.body.definitions.custom.properties)).toEqual([
        'skills',
        'team',
        'vip',
      ]);
      expect((await acme.as('GET', '/api/v1/meta/schemas/user/other')).status).toBe(404);
    });

    it('refuses bad definitions with Okta errors', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const bad = await acme.as('POST', path, {
        definitions: {
          custom: {
            properties: {
              email: { title: 'Email', type: 'string' },
              shoe: { title: 'Shoe', type: 'float' },
              code: { title: 'Code', type: 'string', minLength: 5, maxLength: 2 },
            },
          },
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errorCode).toBe('E0000001');
      expect(bad.body.errorCauses).toEqual([
        {
          errorSummary:
            "definitions.custom.properties.email: Property name 'email' is already defined in the base schema",
        },
        { errorSummary: expect.stringMatching(/^definitions\.custom\.properties\.shoe\.type: /) },
        {
          errorSummary:
            'definitions.custom.properties.code.minLength: must not be greater than maxLength',
        },
      ]);
      expect((await acme.as('GET', path)).body.definitions.custom.properties).toEqual({});
    });

    it('keeps custom attributes with users, checked against the schema', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      await acme.as('POST', path, {
        definitions: {
          custom: {
            properties: {
              team: { title: 'Team', type: 'string', maxLength: 10, enum: ['core', 'edge'] },
              tier: { title: 'Tier', type: 'integer' },
              skills: { title: 'Skills', type: 'array', items: { type: 'string' } },
            },
          },
        },
      });
      const created = await acme.as('POST', '/api/v1/users?activate=false', {
        profile: { ...base, team: 'core', tier: 2, skills: ['ts', 'sql'] },
      });
      expect(created.status).toBe(200);
      expect(created.body.profile).toEqual({
        ...base,
        team: 'core',
        tier: 2,
        skills: ['ts', 'sql'],
      });
      const id = created.body.id;
      expect((await acme.as('GET', `/api/v1/users/${id}`)).body.profile).toEqual(
        created.body.profile,
      );
      const invalid = await acme.as('POST', `/api/v1/users/${id}`, {
        profile: { team: 'ops', tier: 'two', shoeSize: 9 },
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.errorCauses).toEqual([
        { errorSummary: 'profile.team: must be one of "core", "edge"' },
        { errorSummary: 'profile.tier: must be an integer' },
        { errorSummary: "profile.shoeSize: Property name 'shoeSize' is not defined in profile" },
      ]);
      const updated = await acme.as('POST', `/api/v1/users/${id}`, {
        profile: { team: 'edge', tier: null },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.profile).toEqual({ ...base, team: 'edge', skills: ['ts', 'sql'] });
      const replaced = await acme.as('PUT', `/api/v1/users/${id}`, {
        profile: { ...base, tier: 3 },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.profile).toEqual({ ...base, tier: 3 });
      // A required attribute: new users must have it.
      await acme.as('POST', path, {
        definitions: { custom: { properties: {}, required: ['tier'] } },
      });
      const missing = await acme.as('POST', '/api/v1/users?activate=false', {
        profile: { ...base, login: 'bob@example.com', email: 'bob@example.com' },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.errorCauses).toEqual([{ errorSummary: 'profile.tier: is required' }]);
      // Removing an attribute removes it from every user's profile.
      await acme.as('POST', path, { definitions: { custom: { properties: { tier: null } } } });
      expect((await acme.as('GET', `/api/v1/users/${id}`)).body.profile).toEqual(base);
    });

    it('lets claims map custom attributes, and only declared ones', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      await acme.as('POST', path, {
        definitions: { custom: { properties: { team: { title: 'Team', type: 'string' } } } },
      });
      const claim = (value: string) =>
        acme.as('POST', '/api/v1/authorizationServers/default/claims', {
          name: `c-${value.length}`,
          status: 'ACTIVE',
          claimType: 'RESOURCE',
          valueType: 'EXPRESSION',
          value,
          conditions: { scopes: [] },
        });
      expect((await claim('user.team')).status).toBe(201);
      const unknown = await claim('user.shoeSize');
      expect(unknown.status).toBe(400);
      expect(unknown.body.errorCode).toBe('E0000001');
    });
  });
}
