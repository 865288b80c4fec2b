// The users and groups collections (issue 19): q, filter, search, limit, after and Link headers,
// served from the read model's ordered indexes, on both stacks.
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminHarness } from './admin-harness.js';
import { type ApiResponse, startAdmin } from './admin-harness.js';

const links = (response: ApiResponse) =>
  Object.fromEntries(
    [...(response.headers.get('link') ?? '').matchAll(/<([^>]+)>; rel="(\w+)"/g)].map((m) => [
      m[2]!,
      m[1]!,
    ]),
  ) as { self?: string; next?: string };

const ids = (response: ApiResponse) => (response.body as { id: string }[]).map((item) => item.id);

export function describeCollections(harness: AdminHarness): void {
  describe(`collections: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const seeded = async () => {
      const { newTenant } = await startAdmin(harness, cleanups);
      const acme = await newTenant();
      const org = `http://localhost:9000/${acme.id}`;
      const people = [
        ['ada@example.com', 'Ada', 'Lovelace', 'ada.l@example.org'],
        ['grace@example.com', 'Grace', 'Hopper', 'grace@example.com'],
        ['alan@example.com', 'Alan', 'Turing', 'alan@example.com'],
        ['adele@example.com', 'Adèle', 'Goldberg', 'adele@example.com'],
        ['barbara@example.com', 'Barbara', 'Liskov', 'ADA.barbara@example.com'],
      ] as const;
      const users: Record<string, string> = {};
      for (const [login, firstName, lastName, email] of people) {
        const created = await acme.as('POST', '/api/v1/users', {
          profile: { login, email, firstName, lastName, nickName: `nick-${firstName}` },
        });
        expect(created.status).toBe(200);
        users[firstName] = created.body.id;
      }
      const follow = (url: string) => acme.as('GET', url.slice(org.length));
      return { acme, org, users, follow };
    };

    it('lists users by id, pages them with limit and after, and links self and next as Okta does', async () => {
      const { acme, org, users, follow } = await seeded();
      const all = await acme.as('GET', '/api/v1/users');
      expect(all.status).toBe(200); // was 405
      expect(ids(all)).toEqual(Object.values(users).sort());
      expect(all.body[0]).toMatchObject({ status: 'PROVISIONED', profile: expect.any(Object) });
      expect(links(all)).toEqual({ self: `${org}/api/v1/users` });

      const first = await acme.as('GET', '/api/v1/users?limit=2');
      expect(first.body).toHaveLength(2);
      const { self, next } = links(first);
      expect(self).toBe(`${org}/api/v1/users?limit=2`);
      expect(next).toMatch(new RegExp(`^${org}/api/v1/users\\?after=[A-Za-z0-9_-]+&limit=2$`));
      const seen = ids(first);
      let page = first;
      while (links(page).next) {
        page = await follow(links(page).next!);
        expect(page.status).toBe(200);
        seen.push(...ids(page));
      }
      expect(seen).toEqual(Object.values(users).sort());
    });

    it('bounds limit by the maximum, and answers bad limits and cursors with 400, never 500', async () => {
      const { acme } = await seeded();
      const capped = await acme.as('GET', '/api/v1/users?limit=5000');
      expect(capped.status).toBe(200);
      expect(capped.body).toHaveLength(5);
      for (const bad of [
        'limit=0',
        'limit=-1',
        'limit=ten',
        'after=garbage!',
        'after=eyJiIjo5fQ',
      ]) {
        const response = await acme.as('GET', `/api/v1/users?${bad}`);
        expect(response.status, bad).toBe(400);
        expect(response.body.errorCode, bad).toBe('E0000001');
      }
    });

    it('finds users by q: a case-insensitive prefix of login, email, first or last name, once each', async () => {
      const { acme, users } = await seeded();
      const ad = await acme.as('GET', '/api/v1/users?q=AD');
      expect(ad.status).toBe(200);
      // Ada (login, email, first name), Adèle (login, first name), Barbara (email).
      expect(ids(ad).sort()).toEqual([users.Ada, users.Adèle, users.Barbara].sort());
      expect(ids(await acme.as('GET', '/api/v1/users?q=hop'))).toEqual([users.Grace]);
      expect(ids(await acme.as('GET', '/api/v1/users?q=zzz'))).toEqual([]);
      // Paged one by one, the same users, none twice.
      const paged: string[] = [];
      let page = await acme.as('GET', '/api/v1/users?q=ad&limit=1');
      for (;;) {
        paged.push(...ids(page));
        const next = page.headers
          .get('link')
          ?.match(/<[^>]*\/api\/v1\/users(\?[^>]+)>; rel="next"/);
        if (!next) break;
        page = await acme.as('GET', `/api/v1/users${next[1]}`);
      }
      expect(paged.sort()).toEqual(ids(ad).sort());
    });

    it('filters users with Okta filter expressions and refuses bad ones with E0000031', async () => {
      const { acme, users } = await seeded();
      await acme.as('POST', `/api/v1/users/${users.Alan}/lifecycle/deactivate`);
      const q = (filter: string) =>
        acme.as('GET', `/api/v1/users?filter=${encodeURIComponent(filter)}`);
      expect(ids(await q('status eq "DEPROVISIONED"'))).toEqual([users.Alan]);
      expect(ids(await q('profile.lastName eq "hopper"'))).toEqual([users.Grace]);
      expect(ids(await q(`id eq "${users.Ada}"`))).toEqual([users.Ada]);
      expect(
        ids(await q('profile.firstName eq "Ada" or profile.lastName eq "Turing"')).sort(),
      ).toEqual([users.Ada, users.Alan].sort());
      expect(
        ids(
          await q(
            'status eq "PROVISIONED" and (profile.lastName eq "Turing" or profile.lastName eq "Liskov")',
          ),
        ),
      ).toEqual([users.Barbara]);
      expect(ids(await q('lastUpdated gt "2000-01-01T00:00:00.000Z"')).sort()).toEqual(
        Object.values(users).sort(),
      );
      expect(ids(await q('lastUpdated lt "2000-01-01T00:00:00.000Z"'))).toEqual([]);
      for (const bad of [
        'status eq',
        'status equals "ACTIVE"',
        'profile.nickName eq "x"', // not a filter attribute: search's
        'lastUpdated gt "yesterday"',
        '(status eq "ACTIVE"',
        'status eq "ACTIVE" and',
        'profile.login sw "a"', // filter has no sw
      ]) {
        const response = await q(bad);
        expect(response.status, bad).toBe(400);
        expect(response.body.errorCode, bad).toBe('E0000031');
      }
    });

    it('searches users with Okta search expressions, indexed or not', async () => {
      const { acme, users } = await seeded();
      const s = (search: string, more = '') =>
        acme.as('GET', `/api/v1/users?search=${encodeURIComponent(search)}${more}`);
      expect(ids(await s('profile.firstName sw "ad"')).sort()).toEqual(
        [users.Ada, users.Adèle].sort(),
      );
      expect(ids(await s('profile.nickName eq "nick-Grace"'))).toEqual([users.Grace]);
      expect(ids(await s('profile.nickName co "ar"'))).toEqual([users.Barbara]);
      expect(ids(await s('profile.middleName pr'))).toEqual([]);
      expect(
        ids(await s('created ge "2000-01-01T00:00:00Z" and profile.lastName lt "h"')).sort(),
      ).toEqual([users.Adèle]);
      expect(ids(await s('status eq "PROVISIONED" and profile.lastName ne "Hopper"')).length).toBe(
        4,
      );
      const one = await s('profile.nickName sw "nick"', '&limit=2');
      expect(one.body).toHaveLength(2);
      expect(one.headers.get('link')).toContain('rel="next"');
      const bad = await s('profile.firstName sw');
      expect(bad.status).toBe(400);
      expect(bad.body.errorCode).toBe('E0000031');
    });

    it('keeps the indexes in step with profile changes, lifecycle and deletion', async () => {
      const { acme, users } = await seeded();
      await acme.as('POST', `/api/v1/users/${users.Grace}`, { profile: { lastName: 'Brewster' } });
      expect(ids(await acme.as('GET', '/api/v1/users?q=hop'))).toEqual([]);
      expect(ids(await acme.as('GET', '/api/v1/users?q=brew'))).toEqual([users.Grace]);
      await acme.as('POST', `/api/v1/users/${users.Alan}/lifecycle/deactivate`);
      expect(
        ids(
          await acme.as(
            'GET',
            `/api/v1/users?filter=${encodeURIComponent('status eq "DEPROVISIONED"')}`,
          ),
        ),
      ).toEqual([users.Alan]);
      await acme.as('DELETE', `/api/v1/users/${users.Alan}`);
      expect(ids(await acme.as('GET', '/api/v1/users'))).not.toContain(users.Alan);
      expect(ids(await acme.as('GET', '/api/v1/users?q=alan'))).toEqual([]);
    });

    it('lists groups with q, filter, search, limit and Link, and pages group members and user groups', async () => {
      const { acme, org, users, follow } = await seeded();
      const everyone = (await acme.as('GET', `/api/v1/users/${users.Ada}/groups`)).body[0].id;
      const made: string[] = [];
      for (const name of ['Engineering', 'Engines', 'Sales']) {
        const group = await acme.as('POST', '/api/v1/groups', { profile: { name } });
        made.push(group.body.id);
        for (const user of [users.Ada, users.Grace, users.Alan])
          await acme.as('PUT', `/api/v1/groups/${group.body.id}/users/${user}`);
      }
      const all = await acme.as('GET', '/api/v1/groups');
      expect(all.status).toBe(200); // was 405
      expect(ids(all)).toEqual([everyone, ...made].sort());
      expect(links(all)).toEqual({ self: `${org}/api/v1/groups` });
      expect(ids(await acme.as('GET', '/api/v1/groups?q=engin')).sort()).toEqual(
        made.slice(0, 2).sort(),
      );
      expect(
        ids(
          await acme.as('GET', `/api/v1/groups?filter=${encodeURIComponent('type eq "BUILT_IN"')}`),
        ),
      ).toEqual([everyone]);
      expect(
        ids(
          await acme.as(
            'GET',
            `/api/v1/groups?search=${encodeURIComponent('profile.name eq "sales"')}`,
          ),
        ),
      ).toEqual([made[2]]);
      const bad = await acme.as(
        'GET',
        `/api/v1/groups?filter=${encodeURIComponent('name eq "x"')}`,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.errorCode).toBe('E0000031');
      const two = await acme.as('GET', '/api/v1/groups?limit=2');
      expect(two.body).toHaveLength(2);
      expect(links(two).next).toBeDefined();

      // A group's members, paged by id with Link headers (they ignored limit before).
      const members = await acme.as('GET', `/api/v1/groups/${made[0]}/users?limit=2`);
      expect(members.body).toHaveLength(2);
      expect(links(members).self).toBe(`${org}/api/v1/groups/${made[0]}/users?limit=2`);
      const rest = await follow(links(members).next!);
      expect([...ids(members), ...ids(rest)]).toEqual([users.Ada, users.Grace, users.Alan].sort());
      expect(links(rest).next).toBeUndefined();
      const everybody = await acme.as('GET', `/api/v1/groups/${everyone}/users?limit=200`);
      expect(ids(everybody)).toEqual(Object.values(users).sort());
      await acme.as('DELETE', `/api/v1/groups/${made[0]}/users/${users.Grace}`);
      expect(ids(await acme.as('GET', `/api/v1/groups/${made[0]}/users`))).toEqual(
        [users.Ada, users.Alan].sort(),
      );

      // A user's groups: Everyone first, then by id.
      const mine = await acme.as('GET', `/api/v1/users/${users.Ada}/groups?limit=2`);
      expect(ids(mine)).toEqual([everyone, [...made].sort()[0]]);
      const more = await follow(links(mine).next!);
      expect(ids(more)).toEqual([...made].sort().slice(1));
      expect(links(more).next).toBeUndefined();
    });
  });
}
