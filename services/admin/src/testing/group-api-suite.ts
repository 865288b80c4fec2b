// The per-tenant groups API end to end, and a rebuild of every directory read model, on both stacks.
import { keys } from '@gatehouse/directory';
import { isCommandOutcomeKey, rebuildProjections } from '@gatehouse/projections';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

const profileOf = (login: string) => ({
  login,
  email: login,
  firstName: 'Ada',
  lastName: 'Lovelace',
});

export function describeGroupApi(harness: AdminHarness): void {
  describe(`groups API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it('gives every tenant a built-in Everyone that holds all its users and cannot be edited', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const ada = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('ada@example.com') })
      ).body;
      const grace = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('grace@example.com') })
      ).body;
      const groups = await acme.as('GET', `/api/v1/users/${ada.id}/groups`);
      expect(groups.status).toBe(200);
      expect(groups.body).toEqual([
        {
          id: expect.stringMatching(/^00g[0-9A-Za-z]{17}$/),
          created: expect.any(String),
          lastUpdated: expect.any(String),
          lastMembershipUpdated: expect.any(String),
          objectClass: ['okta:user_group'],
          type: 'BUILT_IN',
          profile: { name: 'Everyone', description: 'All users in your organization' },
          _links: {
            self: { href: `http://localhost:9000/${acme.id}/api/v1/groups/${groups.body[0].id}` },
          },
        },
      ]);
      const everyone = groups.body[0].id;
      const members = await acme.as('GET', `/api/v1/groups/${everyone}/users`);
      expect(members.body.map((u: { id: string }) => u.id).sort()).toEqual(
        [ada.id, grace.id].sort(),
      );
      const edit = await acme.as('DELETE', `/api/v1/groups/${everyone}/users/${ada.id}`);
      expect(edit.status).toBe(403);
      expect(edit.body.errorCode).toBe('E0000038');
    });

    it('creates groups with unique names and manages their members', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const ada = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('ada@example.com') })
      ).body;
      const created = await acme.as('POST', '/api/v1/groups', {
        profile: { name: 'Engineers', description: 'They build' },
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        type: 'OKTA_GROUP',
        profile: { name: 'Engineers', description: 'They build' },
      });
      const gid = created.body.id;
      expect((await acme.as('GET', `/api/v1/groups/${gid}`)).body).toEqual(created.body);
      for (const name of ['engineers', 'Everyone']) {
        const dup = await acme.as('POST', '/api/v1/groups', { profile: { name } });
        expect(dup.status).toBe(400);
        expect(dup.body.errorCauses).toEqual([
          {
            errorSummary:
              'profile.name: An object with this field already exists in the current organization',
          },
        ]);
      }
      expect(
        (await acme.as('POST', '/api/v1/groups', { profile: { name: 'X', colour: 'red' } })).body
          .errorCauses,
      ).toEqual([
        { errorSummary: "profile.colour: Property name 'colour' is not defined in profile" },
      ]);

      expect((await acme.as('PUT', `/api/v1/groups/${gid}/users/${ada.id}`)).status).toBe(204);
      expect((await acme.as('PUT', `/api/v1/groups/${gid}/users/ada@example.com`)).status).toBe(
        204,
      );
      expect(
        (await acme.as('GET', `/api/v1/groups/${gid}/users`)).body.map((u: { id: string }) => u.id),
      ).toEqual([ada.id]);
      expect(
        (await acme.as('GET', `/api/v1/users/${ada.id}/groups`)).body.map(
          (g: { profile: { name: string } }) => g.profile.name,
        ),
      ).toEqual(['Everyone', 'Engineers']);
      expect((await acme.as('DELETE', `/api/v1/groups/${gid}/users/${ada.id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/groups/${gid}/users`)).body).toEqual([]);
      expect(
        (await acme.as('PUT', `/api/v1/groups/${gid}/users/00uNOSUCHUSER0000000`)).status,
      ).toBe(404);
      expect(
        (await acme.as('PUT', `/api/v1/groups/00gNOSUCHGROUP000000/users/${ada.id}`)).body
          .errorCode,
      ).toBe('E0000007');
    });

    it('replaces a group profile with PUT and deletes a group with its memberships and app assignments', async () => {
      const { newTenant, store } = await start();
      const acme = await newTenant();
      const ada = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('ada@example.com') })
      ).body;
      const group = (
        await acme.as('POST', '/api/v1/groups', { profile: { name: 'Eng', description: 'x' } })
      ).body;
      const other = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Ops' } })).body;
      // PUT: the whole profile, the description dropped when left out; names stay unique.
      const replaced = await acme.as('PUT', `/api/v1/groups/${group.id}`, {
        profile: { name: 'Engineering' },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.profile).toEqual({ name: 'Engineering', description: '' });
      expect((await acme.as('GET', `/api/v1/groups/${group.id}`)).body.profile.name).toBe(
        'Engineering',
      );
      // The collection's name index follows the replacement.
      const namesFound = async (q: string) =>
        (await acme.as('GET', `/api/v1/groups?q=${q}`)).body.map(
          (g: { profile: { name: string } }) => g.profile.name,
        );
      expect(await namesFound('Engin')).toEqual(['Engineering']);
      const taken = await acme.as('PUT', `/api/v1/groups/${group.id}`, {
        profile: { name: 'ops' },
      });
      expect(taken.status).toBe(400);
      expect(taken.body.errorCauses).toEqual([
        {
          errorSummary:
            'profile.name: An object with this field already exists in the current organization',
        },
      ]);
      // The old name is free again; the new one is held.
      expect((await acme.as('POST', '/api/v1/groups', { profile: { name: 'Eng' } })).status).toBe(
        200,
      );
      expect(
        (await acme.as('POST', '/api/v1/groups', { profile: { name: 'engineering' } })).status,
      ).toBe(400);
      expect(
        (await acme.as('PUT', `/api/v1/groups/${group.id}`, { profile: { nope: 1 } })).status,
      ).toBe(400);
      // Everyone can be neither replaced nor deleted: 403 E0000006.
      const everyone = (await acme.as('GET', `/api/v1/users/${ada.id}/groups`)).body[0];
      expect(everyone.profile.name).toBe('Everyone');
      const renameEveryone = await acme.as('PUT', `/api/v1/groups/${everyone.id}`, {
        profile: { name: 'All' },
      });
      expect(renameEveryone.status).toBe(403);
      expect(renameEveryone.body.errorCode).toBe('E0000006');
      const deleteEveryone = await acme.as('DELETE', `/api/v1/groups/${everyone.id}`);
      expect(deleteEveryone.status).toBe(403);
      expect(deleteEveryone.body.errorCode).toBe('E0000006');
      // A member and an app assignment go with the group.
      expect((await acme.as('PUT', `/api/v1/groups/${group.id}/users/${ada.id}`)).status).toBe(204);
      const client = (
        await acme.as('POST', '/oauth2/v1/clients', {
          client_name: 'Web',
          redirect_uris: ['https://a.example/cb'],
        })
      ).body;
      expect(
        (await acme.as('PUT', `/api/v1/apps/${client.client_id}/groups/${group.id}`, {})).status,
      ).toBeLessThan(300);
      expect((await acme.as('DELETE', `/api/v1/groups/${group.id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/groups/${group.id}`)).status).toBe(404);
      expect(await namesFound('Engin')).toEqual([]);
      expect(
        (await acme.as('GET', `/api/v1/users/${ada.id}/groups`)).body.map(
          (g: { profile: { name: string } }) => g.profile.name,
        ),
      ).toEqual(['Everyone']);
      expect(await store.smembers(keys.appGroups(acme.id, client.client_id))).toEqual([]);
      expect(await store.smembers(keys.groupMembers(acme.id, group.id))).toEqual([]);
      expect((await acme.as('DELETE', `/api/v1/groups/${group.id}`)).status).toBe(404);
      // Its name is free again; the other group is untouched.
      expect(
        (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Engineering' } })).status,
      ).toBe(200);
      expect((await acme.as('GET', `/api/v1/groups/${other.id}`)).status).toBe(200);
    });

    it('takes a deleted user out of its groups', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const ada = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('ada@example.com') })
      ).body;
      const gid = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Engineers' } })).body
        .id;
      await acme.as('PUT', `/api/v1/groups/${gid}/users/${ada.id}`);
      await acme.as('POST', `/api/v1/users/${ada.id}/lifecycle/deactivate`);
      expect((await acme.as('DELETE', `/api/v1/users/${ada.id}`)).status).toBe(204);
      expect((await acme.as('GET', `/api/v1/groups/${gid}/users`)).body).toEqual([]);
    });

    it('rebuilds every directory read model identically after they are dropped', async () => {
      const { newTenant, store, bus, runner, projections, caughtUp, call } = await start();
      const acme = await newTenant();
      const globex = await newTenant();
      const users = [];
      for (const [tenant, login] of [
        [acme, 'a@example.com'],
        [acme, 'b@example.com'],
        [globex, 'a@example.com'],
      ] as const) {
        users.push({
          tenant,
          user: (
            await tenant.as('POST', '/api/v1/users', {
              profile: profileOf(login),
              credentials: { password: { value: 'Correct-Horse-9' } },
            })
          ).body,
        });
      }
      const gid = (await acme.as('POST', '/api/v1/groups', { profile: { name: 'Engineers' } })).body
        .id;
      await acme.as('PUT', `/api/v1/groups/${gid}/users/${users[0]!.user.id}`);
      await acme.as('PUT', `/api/v1/groups/${gid}/users/${users[1]!.user.id}`);
      await acme.as('POST', `/api/v1/users/${users[1]!.user.id}`, {
        profile: { login: 'c@example.com', nickName: 'C' },
      });
      await acme.as('POST', `/api/v1/users/${users[0]!.user.id}/lifecycle/suspend`);
      await globex.as('POST', `/api/v1/users/${users[2]!.user.id}/lifecycle/deactivate`);
      await globex.as('DELETE', `/api/v1/users/${users[2]!.user.id}`);
      await call('POST', `/api/v1/tenants/${globex.id}/lifecycle/deactivate`);
      await caughtUp();
      await runner!.stop();

      // Command outcomes are for the writers that waited on them; a rebuild writes none.
      const lasting = async () =>
        (await store.dump('rm:')).filter((entry) => !isCommandOutcomeKey(entry.key));
      const original = await lasting();
      const types = new Set(original.map((k) => k.key.split(':')[1]));
      for (const model of [
        'tenant',
        'user',
        'users',
        'group',
        'groups',
        'group-members',
        'user-groups',
        'user-by-login',
        'tenant-by-token',
        'stream',
        'authz',
        'authzs',
        'scope',
        'scopes',
        'policy',
        'policies',
        'rule',
        'rules',
      ]) {
        expect(types, model).toContain(model);
      }
      await store.deleteByPrefix('rm:');
      await rebuildProjections({ bus, store, projections });
      expect(await lasting()).toEqual(original);
    });
  });
}
