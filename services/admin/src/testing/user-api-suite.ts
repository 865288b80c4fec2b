// The per-tenant users API end to end (admin + projector + bus + store), on both stacks.

import { randomUUID } from 'node:crypto';
import { keys } from '@gatehouse/directory';
import { Topics } from '@gatehouse/events';
import { ProjectionRunner } from '@gatehouse/projections';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AdminHarness, startAdmin } from './admin-harness.js';

const password = 'Correct-Horse-9';
const profileOf = (login: string) => ({
  login,
  email: login,
  firstName: 'Ada',
  lastName: 'Lovelace',
});

export function describeUserApi(harness: AdminHarness): void {
  describe(`users API: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const start = () => startAdmin(harness, cleanups);

    it("creates an active user in Okta's shape and finds it by id and by login, in any case", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const created = await acme.as('POST', '/api/v1/users?activate=true', {
        profile: {
          ...profileOf('ada@example.com'),
          nickName: 'Countess',
          timezone: 'Europe/London',
        },
        credentials: { password: { value: password } },
      });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^00u[0-9A-Za-z]{17}$/),
        status: 'ACTIVE',
        created: expect.any(String),
        activated: created.body.created,
        statusChanged: created.body.created,
        lastLogin: null,
        lastUpdated: created.body.created,
        passwordChanged: created.body.created,
        type: { id: 'default' },
        profile: {
          ...profileOf('ada@example.com'),
          nickName: 'Countess',
          timezone: 'Europe/London',
        },
        credentials: { password: {}, provider: { type: 'OKTA', name: 'OKTA' } },
        _links: {
          self: { href: `http://localhost:9000/${acme.id}/api/v1/users/${created.body.id}` },
        },
      });
      expect((await acme.as('GET', `/api/v1/users/${created.body.id}`)).body).toEqual(created.body);
      expect((await acme.as('GET', '/api/v1/users/ADA@Example.com')).body.id).toBe(created.body.id);
    });

    it('keeps the password only as a scrypt hash, in the event and the read model', async () => {
      const { newTenant, bus, store } = await start();
      const acme = await newTenant();
      const created = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('grace@example.com'),
        credentials: { password: { value: password } },
      });
      expect(JSON.stringify(created.body)).not.toContain('scrypt');
      let hashes = 0;
      await bus.replay(Topics.directory, async (event) => {
        const text = Buffer.from(event.envelope.data).toString('latin1');
        expect(text).not.toContain(password);
        if (event.envelope.aggregateId === created.body.id && text.includes('$scrypt$'))
          hashes += 1;
      });
      expect(hashes).toBe(1);
      const stored = JSON.stringify(await store.dump(''));
      expect(stored).not.toContain(password);
      expect(stored).toContain('$scrypt$ln=12,r=8,p=1$');
    });

    it('creates STAGED without activation and PROVISIONED without a password', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const staged = await acme.as('POST', '/api/v1/users?activate=false', {
        profile: profileOf('staged@example.com'),
        credentials: { password: { value: password } },
      });
      expect(staged.body).toMatchObject({ status: 'STAGED', activated: null });
      const provisioned = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('nopass@example.com'),
      });
      expect(provisioned.body).toMatchObject({
        status: 'PROVISIONED',
        passwordChanged: null,
        credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      });
      expect(provisioned.body.credentials.password).toBeUndefined();
      const bad = await acme.as('POST', '/api/v1/users?activate=maybe', {
        profile: profileOf('x@example.com'),
      });
      expect(bad.body.errorCauses).toEqual([{ errorSummary: 'activate: must be true or false' }]);
    });

    it('names every field at fault, including a weak password and unknown attributes', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const response = await acme.as('POST', '/api/v1/users', {
        profile: { login: 'nope', firstName: 'Ada', shoeSize: '9' },
        credentials: { password: { value: 'weak' } },
      });
      expect(response.status).toBe(400);
      expect(response.body.errorCode).toBe('E0000001');
      expect(
        response.body.errorCauses
          .map((c: { errorSummary: string }) => c.errorSummary.split(':')[0])
          .sort(),
      ).toEqual(['profile.email', 'profile.lastName', 'profile.login', 'profile.shoeSize'].sort());
      const weak = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('weak@example.com'),
        credentials: { password: { value: 'weakpassword' } },
      });
      expect(weak.body.errorCauses[0].errorSummary).toMatch(
        /^password: Password requirements were not met/,
      );
      const malformed = await acme.as('POST', '/api/v1/users', '{"profile": {');
      expect(malformed.body.errorCode).toBe('E0000003');
    });

    it('keeps logins unique, case-insensitively: of 20 concurrent creates exactly one succeeds', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      expect(
        (await acme.as('POST', '/api/v1/users', { profile: profileOf('dup@example.com') })).status,
      ).toBe(200);
      const again = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('DUP@example.com'),
      });
      expect(again.status).toBe(400);
      expect(again.body.errorCauses).toEqual([
        {
          errorSummary:
            'login: An object with this field already exists in the current organization',
        },
      ]);
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          acme.as('POST', '/api/v1/users', {
            profile: profileOf('race@example.com'),
            credentials: { password: { value: password } },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(19);
      // The same login in another tenant is a different user.
      const globex = await newTenant();
      expect(
        (await globex.as('POST', '/api/v1/users', { profile: profileOf('race@example.com') }))
          .status,
      ).toBe(200);
    });

    it('makes no twin of a login created twice while the projector is behind', async () => {
      const { newTenant, runner, bus, store, projections } = await startAdmin(harness, cleanups, {
        readYourWritesMs: 1_500,
      });
      const acme = await newTenant();
      await runner!.stop();
      const saved = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('late@example.com'),
      });
      expect(saved.status).toBe(503);
      expect(saved.body.errorSummary).toContain('recorded but is not applied yet');
      // Decided on the same (stale) state, so its outcome too waits for the projector.
      const twin = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('LATE@example.com'),
      });
      expect(twin.status).toBe(503);
      const resumed = await ProjectionRunner.start({
        bus,
        store,
        projections,
        groupId: `projector-${randomUUID()}`,
      });
      cleanups.push(() => resumed.stop());
      await vi.waitFor(
        async () =>
          expect((await acme.as('GET', '/api/v1/users/late@example.com')).status).toBe(200),
        { timeout: 20_000, interval: 100 },
      );
      // The first in the log took the login; the second was refused, so there is one user.
      const logins = await Promise.all(
        (await store.smembers(keys.users(acme.id))).map(
          async (id) => (await acme.as('GET', `/api/v1/users/${id}`)).body.profile.login,
        ),
      );
      expect(logins.filter((login) => login.toLowerCase() === 'late@example.com')).toHaveLength(1);
      const again = await acme.as('POST', '/api/v1/users', {
        profile: profileOf('late@example.com'),
      });
      expect(again.status).toBe(400);
      expect(again.body.errorCauses[0].errorSummary).toMatch(/^login: /);
    });

    it('updates a profile partially, and a changed login frees the old one', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const user = (
        await acme.as('POST', '/api/v1/users', {
          profile: { ...profileOf('old@example.com'), middleName: 'Augusta' },
        })
      ).body;
      const updated = await acme.as('POST', `/api/v1/users/${user.id}`, {
        profile: { nickName: 'Countess', middleName: null, login: 'new@example.com' },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.profile).toEqual({
        ...profileOf('old@example.com'),
        login: 'new@example.com',
        nickName: 'Countess',
      });
      expect((await acme.as('GET', '/api/v1/users/new@example.com')).body.id).toBe(user.id);
      expect((await acme.as('GET', '/api/v1/users/old@example.com')).status).toBe(404);
      expect(
        (await acme.as('POST', '/api/v1/users', { profile: profileOf('old@example.com') })).status,
      ).toBe(200);
      const taken = await acme.as('POST', `/api/v1/users/${user.id}`, {
        profile: { login: 'old@example.com' },
      });
      expect(taken.status).toBe(400);
      const status = await acme.as('POST', `/api/v1/users/${user.id}`, {
        status: 'ACTIVE',
        profile: {},
      });
      expect(status.body.errorCauses).toEqual([
        { errorSummary: 'status: cannot be changed here; only profile attributes can' },
      ]);
    });

    it('replaces a whole profile with PUT: attributes left out are removed, login required', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const user = (
        await acme.as('POST', '/api/v1/users', {
          profile: { ...profileOf('put@example.com'), middleName: 'Augusta', nickName: 'Ada' },
        })
      ).body;
      // As an SDK sends it back: the user it read, read-only fields included, a profile changed.
      const replaced = await acme.as('PUT', `/api/v1/users/${user.id}`, {
        ...user,
        profile: { ...profileOf('put2@example.com'), lastName: 'King', locale: 'en-GB' },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.profile).toEqual({
        ...profileOf('put2@example.com'),
        lastName: 'King',
        locale: 'en-GB',
      });
      // Read-your-writes, and the old login is free.
      expect((await acme.as('GET', `/api/v1/users/${user.id}`)).body.profile).toEqual(
        replaced.body.profile,
      );
      expect((await acme.as('GET', '/api/v1/users/put@example.com')).status).toBe(404);
      const noLogin = await acme.as('PUT', `/api/v1/users/${user.id}`, {
        profile: { email: 'x@example.com', firstName: 'A', lastName: 'B' },
      });
      expect(noLogin.status).toBe(400);
      expect(noLogin.body.errorCode).toBe('E0000001');
      expect(noLogin.body.errorCauses).toEqual([{ errorSummary: 'profile.login: is required' }]);
      expect((await acme.as('PUT', `/api/v1/users/${user.id}`, {})).status).toBe(400);
      expect(
        (
          await acme.as('PUT', '/api/v1/users/00uNOSUCHUSER0000000', {
            profile: profileOf('z@example.com'),
          })
        ).status,
      ).toBe(404);
      const other = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('o@example.com') })
      ).body;
      const taken = await acme.as('PUT', `/api/v1/users/${other.id}`, {
        profile: profileOf('put2@example.com'),
      });
      expect(taken.status).toBe(400);
    });

    it("stores Okta's whole base profile, with its validation", async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const base = {
        ...profileOf('base@example.com'),
        mobilePhone: '+1 415 555 0100',
        secondEmail: 'ada.home@example.org',
        title: 'Analyst',
        displayName: 'Ada L.',
        nickName: 'Ada',
        profileUrl: 'https://example.com/ada',
        primaryPhone: '+44 20 7946 0000',
        streetAddress: '12 St James Square',
        city: 'London',
        state: 'London',
        zipCode: 'SW1Y 4JH',
        countryCode: 'GB',
        postalAddress: '12 St James Square, London SW1Y 4JH',
        preferredLanguage: 'en-GB',
        locale: 'en_GB',
        timezone: 'Europe/London',
        userType: 'Employee',
        employeeNumber: '1815',
        costCenter: 'R&D',
        organization: 'Analytical Engines',
        division: 'Computing',
        department: 'Mathematics',
        managerId: '00uBABBAGE',
        manager: 'Charles Babbage',
        honorificPrefix: 'Countess',
        honorificSuffix: 'FRS',
        middleName: 'Augusta',
      };
      const created = await acme.as('POST', '/api/v1/users', { profile: base });
      expect(created.status).toBe(200);
      expect(created.body.profile).toEqual(base);
      expect((await acme.as('GET', `/api/v1/users/${created.body.id}`)).body.profile).toEqual(base);
      const partial = await acme.as('POST', `/api/v1/users/${created.body.id}`, {
        profile: { department: 'Engines', manager: null },
      });
      const { manager: _gone, ...withoutManager } = base;
      expect(partial.body.profile).toEqual({ ...withoutManager, department: 'Engines' });
      const invalid = await acme.as('POST', '/api/v1/users', {
        profile: {
          ...profileOf('bad@example.com'),
          secondEmail: 'not-an-email',
          mobilePhone: 'call me',
          title: 'x'.repeat(1025),
          preferredLanguage: 'English please',
        },
      });
      expect(invalid.status).toBe(400);
      expect(
        invalid.body.errorCauses.map((c: { errorSummary: string }) => c.errorSummary.split(':')[0]),
      ).toEqual([
        'profile.secondEmail',
        'profile.mobilePhone',
        'profile.title',
        'profile.preferredLanguage',
      ]);
    });

    it('walks the lifecycle: suspend, unsuspend, deactivate, reactivate, delete (twice)', async () => {
      const { newTenant } = await start();
      const acme = await newTenant();
      const id = (
        await acme.as('POST', '/api/v1/users', {
          profile: profileOf('life@example.com'),
          credentials: { password: { value: password } },
        })
      ).body.id;
      const status = async () => (await acme.as('GET', `/api/v1/users/${id}`)).body.status;
      const act = (action: string) => acme.as('POST', `/api/v1/users/${id}/lifecycle/${action}`);

      expect((await act('suspend')).status).toBe(200);
      expect(await status()).toBe('SUSPENDED');
      const twice = await act('suspend');
      expect(twice.status).toBe(403);
      expect(twice.body.errorCode).toBe('E0000038');
      await act('unsuspend');
      expect(await status()).toBe('ACTIVE');
      expect((await act('activate')).body.errorCode).toBe('E0000038');
      await act('deactivate');
      expect(await status()).toBe('DEPROVISIONED');
      expect((await act('deactivate')).status).toBe(200);
      await act('activate');
      expect(await status()).toBe('ACTIVE');

      // DELETE on an active user deactivates it; on a deactivated one it deletes it.
      expect((await acme.as('DELETE', `/api/v1/users/${id}`)).status).toBe(204);
      expect(await status()).toBe('DEPROVISIONED');
      expect((await acme.as('DELETE', `/api/v1/users/${id}`)).status).toBe(204);
      const gone = await acme.as('GET', `/api/v1/users/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.errorSummary).toBe(`Not found: Resource not found: ${id} (User)`);
      expect(
        (await acme.as('POST', '/api/v1/users', { profile: profileOf('life@example.com') })).status,
      ).toBe(200);
      expect((await acme.as('POST', `/api/v1/users/${id}/lifecycle/reticulate`)).status).toBe(404);
    });

    it("isolates tenants: one tenant's API token gets nothing of another's, nor of the system API", async () => {
      const { newTenant, call } = await start();
      const acme = await newTenant();
      const globex = await newTenant();
      const user = (
        await acme.as('POST', '/api/v1/users', { profile: profileOf('secret@example.com') })
      ).body;
      for (const path of [`/api/v1/users/${user.id}`, '/api/v1/users/secret@example.com']) {
        const stolen = await call('GET', `/${acme.id}${path}`, undefined, globex.apiToken);
        expect(stolen.status).toBe(401);
        expect(stolen.body.errorCode).toBe('E0000011');
        expect((await globex.as('GET', path)).status).toBe(404);
      }
      expect((await call('GET', `/${acme.id}/api/v1/users/${user.id}`)).status).toBe(401); // the system token
      expect((await call('GET', '/api/v1/tenants', undefined, acme.apiToken)).status).toBe(401);
      expect(
        (await call('GET', `/t-nosuchtenant/api/v1/users/${user.id}`, undefined, acme.apiToken))
          .status,
      ).toBe(401);
      await call('POST', `/api/v1/tenants/${acme.id}/lifecycle/deactivate`);
      expect((await acme.as('GET', `/api/v1/users/${user.id}`)).status).toBe(401);
    });
  });
}
