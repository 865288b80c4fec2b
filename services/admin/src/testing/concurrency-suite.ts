// The write side under concurrency (SPEC section 1): N concurrent commands at one aggregate, spread
// over two admin replicas, for every aggregate type. Commands that change different attributes all
// answer 2xx; every 2xx is reflected in the final state; every other answer is a clean 409 or the
// refusal a serial order gives; and dropping the read models and replaying the log reproduces them.
import { directoryProjection, keys } from '@gatehouse/directory';
import { invalidationProjection, sha256Hex } from '@gatehouse/grants';
import type { DumpedKey } from '@gatehouse/projection-store';
import { caughtUpAtKey, isCommandOutcomeKey, rebuildProjections } from '@gatehouse/projections';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, type ApiResponse, type Call, startAdmin } from './admin-harness.js';

const N = 12;
const password = 'Correct-Horse-9';

/** Twelve profile attributes, one per concurrent update. */
const profileChanges: Record<string, string>[] = [
  { middleName: 'Augusta' },
  { displayName: 'Ada L.' },
  { nickName: 'Countess' },
  { profileUrl: 'https://example.com/ada' },
  { locale: 'en-GB' },
  { timezone: 'Europe/London' },
  { primaryPhone: '+44 20 7946 0000' },
  { streetAddress: '12 St James Square' },
  { city: 'London' },
  { state: 'Greater London' },
  { zipCode: 'SW1Y 4JH' },
  { countryCode: 'GB' },
];

export function describeConcurrency(harness: AdminHarness): void {
  describe(`concurrent commands on one aggregate: ${harness.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const start = async () => {
      const admin = await startAdmin(harness, cleanups, {
        replicas: 2,
        projections: [directoryProjection, invalidationProjection],
      });
      const tenant = await admin.newTenant();
      /** The n-th concurrent caller goes to replica n mod 2. */
      const each = <T>(count: number, call: (as: Call, i: number) => Promise<T>) =>
        Promise.all(Array.from({ length: count }, (_, i) => call(tenant.asOn(i), i)));
      /**
       * Drops every read model and replays the log: the same keys, fields and members, for the
       * tenants of this test (the topics may hold other tests' tenants too).
       */
      const expectReplayGivesSameState = async (tenants: readonly string[] = [tenant.id]) => {
        await admin.caughtUp();
        await admin.runner!.stop();
        const ours = (dump: readonly DumpedKey[]) => comparable(dump, tenants);
        const before = ours(await admin.store.dump(''));
        const positions = await admin.store.dump('pos:');
        await admin.store.deleteByPrefix('');
        await rebuildProjections({
          bus: admin.bus,
          store: admin.store,
          projections: admin.projections,
        });
        const after = ours(await admin.store.dump(''));
        // The keys that differ, named, rather than two dumps of thousands of keys.
        const text = (dump: DumpedKey[]) => new Map(dump.map((k) => [k.key, JSON.stringify(k)]));
        const [was, is] = [text(before), text(after)];
        const differing = [...new Set([...was.keys(), ...is.keys()])].filter(
          (key) => was.get(key) !== is.get(key),
        );
        expect(differing.map((key) => [key, was.get(key), is.get(key)])).toEqual([]);
        expect(positions.length).toBeGreaterThan(0);
      };
      const newUser = async (login: string) => {
        const created = await tenant.as('POST', '/api/v1/users?activate=true', {
          profile: { login, email: login, firstName: 'Ada', lastName: 'Lovelace' },
          credentials: { password: { value: password } },
        });
        expect(created.status).toBe(200);
        return created.body.id as string;
      };
      const newClient = async () => {
        const created = await tenant.as('POST', '/oauth2/v1/clients', {
          client_name: 'Web',
          redirect_uris: ['https://app.example.com/cb'],
        });
        expect(created.status).toBe(201);
        return created.body as { client_id: string; client_secret: string };
      };
      return { ...admin, tenant, each, expectReplayGivesSameState, newUser, newClient };
    };

    it(`keeps all ${N} concurrent partial profile updates of one user, in three rounds`, async () => {
      const { tenant, each, newUser, logs, expectReplayGivesSameState } = await start();
      for (let round = 0; round < 3; round++) {
        const id = await newUser(`ada${round}@example.com`);
        const answers = await each(N, (as, i) =>
          as('POST', `/api/v1/users/${id}`, { profile: profileChanges[i] }),
        );
        expectOnly(answers, [200]);
        const { profile } = (await tenant.as('GET', `/api/v1/users/${id}`)).body;
        for (const change of profileChanges) expect(profile).toMatchObject(change);
      }
      // The replicas did race: some attempts were refused in the log and decided again.
      expect(
        logs.filter((entry) => String(entry.message).includes('lost a race')).length,
      ).toBeGreaterThan(0);
      await expectReplayGivesSameState();
    });

    it('applies a lifecycle transition once: one suspension of N succeeds, the rest are refused', async () => {
      const { tenant, each, newUser, expectReplayGivesSameState } = await start();
      const id = await newUser('grace@example.com');
      const suspended = await each(N, (as) => as('POST', `/api/v1/users/${id}/lifecycle/suspend`));
      expect(suspended.filter((a) => a.status === 200)).toHaveLength(1);
      expectOnly(suspended, [200, 403, 409]);
      for (const refused of suspended.filter((a) => a.status === 403))
        expect(refused.body.errorCode).toBe('E0000038');
      expect((await tenant.as('GET', `/api/v1/users/${id}`)).body.status).toBe('SUSPENDED');
      // Unsuspend and deactivate at once: both succeed, in some order, and the result says which.
      const [unsuspend, deactivate] = await each(2, (as, i) =>
        as('POST', `/api/v1/users/${id}/lifecycle/${i === 0 ? 'unsuspend' : 'deactivate'}`),
      );
      expectOnly([deactivate!], [200]);
      expectOnly([unsuspend!], [200, 403]);
      expect((await tenant.as('GET', `/api/v1/users/${id}`)).body.status).toBe('DEPROVISIONED');
      await expectReplayGivesSameState();
    });

    it('gives a login to exactly one of N concurrent creations, and keeps it for a rename too', async () => {
      const { tenant, each, newUser, expectReplayGivesSameState } = await start();
      const created = await each(N, (as) =>
        as('POST', '/api/v1/users?activate=true', {
          profile: {
            login: 'hopper@example.com',
            email: 'hopper@example.com',
            firstName: 'Grace',
            lastName: 'Hopper',
          },
          credentials: { password: { value: password } },
        }),
      );
      expect(created.filter((a) => a.status === 200)).toHaveLength(1);
      expectOnly(created, [200, 400, 409]);
      for (const refused of created.filter((a) => a.status === 400))
        expect(refused.body.errorCauses[0].errorSummary).toContain('already exists');
      // N users renamed to one login at once: one gets it.
      const ids = await Promise.all(
        Array.from({ length: N }, (_, i) => newUser(`rename${i}@example.com`)),
      );
      const renamed = await each(N, (as, i) =>
        as('POST', `/api/v1/users/${ids[i]}`, {
          profile: { login: 'wanted@example.com', email: 'wanted@example.com' },
        }),
      );
      expect(renamed.filter((a) => a.status === 200)).toHaveLength(1);
      expectOnly(renamed, [200, 400, 409]);
      const holder = (await tenant.as('GET', '/api/v1/users/wanted@example.com')).body;
      expect(holder.id).toBe(ids[renamed.findIndex((a) => a.status === 200)]);
      await expectReplayGivesSameState();
    });

    it('adds N users to a group at once, and never leaves a deleted user in a group', async () => {
      const { tenant, each, newUser, store, expectReplayGivesSameState } = await start();
      const group = (await tenant.as('POST', '/api/v1/groups', { profile: { name: 'Staff' } }))
        .body;
      const ids = await Promise.all(
        Array.from({ length: N }, (_, i) => newUser(`member${i}@example.com`)),
      );
      const added = await each(N, (as, i) =>
        as('PUT', `/api/v1/groups/${group.id}/users/${ids[i]}`),
      );
      expectOnly(added, [204]);
      const members = (await tenant.as('GET', `/api/v1/groups/${group.id}/users`)).body;
      expect(members.map((u: { id: string }) => u.id).sort()).toEqual([...ids].sort());
      // A user deleted while being added to groups: afterwards it is in none of them.
      for (let round = 0; round < 3; round++) {
        const id = await newUser(`leaving${round}@example.com`);
        const groups = await Promise.all(
          Array.from(
            { length: 4 },
            async (_, i) =>
              (
                await tenant.as('POST', '/api/v1/groups', {
                  profile: { name: `Round ${round} group ${i}` },
                })
              ).body.id as string,
          ),
        );
        expectOnly([await tenant.as('POST', `/api/v1/users/${id}/lifecycle/deactivate`)], [200]);
        const answers = await each(5, (as, i) =>
          i === 0
            ? as('DELETE', `/api/v1/users/${id}`)
            : as('PUT', `/api/v1/groups/${groups[i - 1]}/users/${id}`),
        );
        expectOnly([answers[0]!], [204]);
        expectOnly(answers.slice(1), [204, 404, 409]);
        expect((await tenant.as('GET', `/api/v1/users/${id}`)).status).toBe(404);
        for (const groupId of groups) {
          const left = (await tenant.as('GET', `/api/v1/groups/${groupId}/users`)).body;
          expect(left.map((u: { id: string }) => u.id)).not.toContain(id);
          expect(await store.smembers(`rm:group-members:${tenant.id}:${groupId}`)).not.toContain(
            id,
          );
        }
        expect(await store.smembers(`rm:user-groups:${tenant.id}:${id}`)).toEqual([]);
      }
      // N concurrent creations of one group name: one wins.
      const named = await each(N, (as) =>
        as('POST', '/api/v1/groups', { profile: { name: 'Admins' } }),
      );
      expect(named.filter((a) => a.status === 200)).toHaveLength(1);
      expectOnly(named, [200, 400, 409]);
      await expectReplayGivesSameState();
    });

    it("keeps a client's metadata, lifecycle and secret changes made at once, and N assignments", async () => {
      const { tenant, each, newUser, newClient, store, expectReplayGivesSameState } = await start();
      for (let round = 0; round < 3; round++) {
        const client = await newClient();
        const path = `/oauth2/v1/clients/${client.client_id}`;
        const current = (await tenant.as('GET', path)).body;
        const answers = await each(3, (as, i) =>
          i === 0
            ? as('PUT', path, { ...current, client_name: `Renamed ${round}` })
            : i === 1
              ? as('POST', `/api/v1/apps/${client.client_id}/lifecycle/deactivate`)
              : as('POST', `${path}/lifecycle/newSecret`),
        );
        expectOnly(answers, [200]);
        expect((await tenant.as('GET', path)).body.client_name).toBe(`Renamed ${round}`);
        const stored = await store.hgetall(keys.client(tenant.id, client.client_id));
        expect(stored.status).toBe('INACTIVE');
        expect(stored.secretSha256).toBe(sha256Hex(answers[2]!.body.client_secret));
      }
      const client = await newClient();
      const ids = await Promise.all(
        Array.from({ length: N }, (_, i) => newUser(`assigned${i}@example.com`)),
      );
      const assigned = await each(N, (as, i) =>
        as('PUT', `/api/v1/apps/${client.client_id}/users/${ids[i]}`, {}),
      );
      expectOnly(assigned, [200]);
      const groups = await Promise.all(
        Array.from(
          { length: N },
          async (_, i) =>
            (await tenant.as('POST', '/api/v1/groups', { profile: { name: `Assigned ${i}` } })).body
              .id as string,
        ),
      );
      const groupAssigned = await each(N, (as, i) =>
        as('PUT', `/api/v1/apps/${client.client_id}/groups/${groups[i]}`, {}),
      );
      expectOnly(groupAssigned, [200]);
      await expectReplayGivesSameState();
    });

    it('keeps N scopes, claims, policies and rules created at once on one server, with distinct priorities', async () => {
      const { tenant, each, expectReplayGivesSameState } = await start();
      const server = '/api/v1/authorizationServers/default';
      const scopes = await each(N, (as, i) =>
        as('POST', `${server}/scopes`, { name: `orders.${i}`, description: `Orders ${i}` }),
      );
      expectOnly(scopes, [201]);
      const listed = (await tenant.as('GET', `${server}/scopes`)).body.map(
        (s: { name: string }) => s.name,
      );
      for (let i = 0; i < N; i++) expect(listed).toContain(`orders.${i}`);
      const sameName = await each(N, (as) =>
        as('POST', `${server}/scopes`, { name: 'payments', description: 'Payments' }),
      );
      expect(sameName.filter((a) => a.status === 201)).toHaveLength(1);
      expectOnly(sameName, [201, 400, 409]);
      const claims = await each(N, (as, i) =>
        as('POST', `${server}/claims`, {
          name: `claim${i}`,
          claimType: 'RESOURCE',
          valueType: 'EXPRESSION',
          value: 'user.email',
        }),
      );
      expectOnly(claims, [201]);
      const policies = await each(N, (as, i) =>
        as('POST', `${server}/policies`, {
          name: `Policy ${i}`,
          conditions: { clients: { include: ['ALL_CLIENTS'] } },
        }),
      );
      expectOnly(policies, [201]);
      const priorities = (await tenant.as('GET', `${server}/policies`)).body.map(
        (p: { priority: number }) => p.priority,
      );
      expect(new Set(priorities).size).toBe(priorities.length);
      const policyId = policies[0]!.body.id;
      const rules = await each(N, (as, i) =>
        as('POST', `${server}/policies/${policyId}/rules`, {
          name: `Rule ${i}`,
          conditions: { grantTypes: { include: ['authorization_code'] } },
        }),
      );
      expectOnly(rules, [201]);
      const rulePriorities = (
        await tenant.as('GET', `${server}/policies/${policyId}/rules`)
      ).body.map((r: { priority: number }) => r.priority);
      expect(rulePriorities).toHaveLength(N);
      expect(new Set(rulePriorities).size).toBe(N);
      // Settings replaced while the server is deactivated: both take effect.
      const current = (await tenant.as('GET', server)).body;
      const both = await each(2, (as, i) =>
        i === 0
          ? as('PUT', server, { ...current, description: 'Renamed at once' })
          : as('POST', `${server}/lifecycle/deactivate`),
      );
      expectOnly(both, [200, 204]);
      const after = (await tenant.as('GET', server)).body;
      expect(after).toMatchObject({ description: 'Renamed at once', status: 'INACTIVE' });
      await expectReplayGivesSameState();
    });

    it('creates a tenant once of N concurrent creations, and deactivates it once', async () => {
      const { call, callOn, expectReplayGivesSameState } = await start();
      const id = `t-race-${Date.now().toString(36)}`;
      const created = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          callOn(i)('POST', '/api/v1/tenants', { id, name: 'Race' }),
        ),
      );
      expect(created.filter((a) => a.status === 201)).toHaveLength(1);
      expectOnly(created, [201, 400, 409]);
      const token = created.find((a) => a.status === 201)!.body.apiToken;
      // The winner's API token is the tenant's: a loser's was never kept.
      expect(
        (await call('GET', `/${id}/api/v1/users/nobody@example.com`, undefined, token)).status,
      ).toBe(404);
      const deactivated = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          callOn(i)('POST', `/api/v1/tenants/${id}/lifecycle/deactivate`),
        ),
      );
      expectOnly(deactivated, [200]);
      expect((await call('GET', `/api/v1/tenants/${id}`)).body.status).toBe('INACTIVE');
      await expectReplayGivesSameState([id]);
    });
  });
}

/** Every answer has one of `statuses`; a 409 is a clean one, in Okta's shape. */
function expectOnly(answers: readonly ApiResponse[], statuses: readonly number[]): void {
  for (const answer of answers) {
    expect(statuses, JSON.stringify(answer.body)).toContain(answer.status);
    if (answer.status === 409)
      expect(answer.body).toMatchObject({
        errorCode: expect.any(String),
        errorId: expect.any(String),
      });
  }
}

/** The keys of `tenants` in a dump: named after one, or (a token's tenant) holding one. */
function comparable(dump: readonly DumpedKey[], tenants: readonly string[]): DumpedKey[] {
  return dump.filter(
    (entry) =>
      !entry.key.endsWith(caughtUpAtKey) &&
      // A command's outcome is for the writer that waited on it; a rebuild writes none.
      !isCommandOutcomeKey(entry.key) &&
      tenants.some(
        (tenant) =>
          entry.key.split(':').includes(tenant) ||
          entry.key.includes(`:${tenant}/`) ||
          (entry.type === 'string' && entry.value === tenant),
      ),
  );
}
