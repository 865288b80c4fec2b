// The management API with the event log down (issue 15, SPEC section 9): every write fails fast
// with 503, an answer that says nothing was changed is true, and a create retried once the log is
// back makes one user, never two; so does one retried with its Idempotency-Key. Needs the broker
// the testkit started itself, to stop it.
import { randomUUID } from 'node:crypto';
import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { brokerControllable, startKafka, stopKafka, testKafka } from '@gatehouse/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiResponse, startAdmin } from './testing/admin-harness.js';

const kafka = testKafka();
const profileOf = (login: string) => ({
  login,
  email: login,
  firstName: 'Ada',
  lastName: 'Lovelace',
});

describe.skipIf(!brokerControllable(kafka))(
  `admin API with the event log down: kafka ${kafka.version}`,
  () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('fails fast with 503, says "nothing was changed" only when true, and a retried create makes one user', async () => {
      const admin = await startAdmin(kafkaRedisStack('admin-outage'), cleanups, {
        readYourWritesMs: 5_000,
      });
      const tenant = await admin.newTenant();
      const logins = ['down0@example.com', 'down1@example.com', 'down2@example.com'];
      const answers: { login: string; answer: ApiResponse; ms: number }[] = [];
      const keyedLogin = 'keyed@example.com';
      const key = randomUUID();
      const keyed = async () => {
        const response = await fetch(`${admin.base}/${tenant.id}/api/v1/users?activate=false`, {
          method: 'POST',
          headers: {
            authorization: `SSWS ${tenant.apiToken}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({ profile: profileOf(keyedLogin) }),
        });
        return {
          status: response.status,
          body: (await response.json()) as { errorSummary?: string },
        };
      };
      let keyedFirst: { status: number; body: { errorSummary?: string } } | undefined;
      await stopKafka(kafka);
      try {
        for (const login of logins) {
          const started = Date.now();
          const answer = await tenant.as('POST', '/api/v1/users?activate=false', {
            profile: profileOf(login),
          });
          answers.push({ login, answer, ms: Date.now() - started });
        }
        // And one with an Idempotency-Key, retried below with the same key.
        keyedFirst = await keyed();
      } finally {
        await startKafka(kafka);
      }
      for (const { answer, ms } of answers) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('1');
        // The publish timeout (2 s) and one attempt's grace, not kafkajs's retries for minutes.
        expect(ms).toBeLessThan(4_500);
      }
      // Once the broker is back and the projector consumes again (its consumer rejoins its group
      // after a crashed broker; a write meanwhile answers the honest 503 "not applied yet")...
      const back = Date.now();
      for (let attempt = 0; ; attempt++) {
        const probe = await tenant.as('POST', '/api/v1/groups', {
          profile: { name: `probe ${attempt}` },
        });
        if (probe.status === 200) break;
        expect(probe.status).toBe(503);
        if (Date.now() - back > 90_000) throw new Error('the pipeline did not come back');
      }
      // ...and has applied whatever did get in:
      await admin.caughtUp();
      for (const { login, answer } of answers) {
        const found = await tenant.as('GET', `/api/v1/users/${login}`);
        if (answer.body.errorSummary.includes('Nothing was changed'))
          expect(found.status).toBe(404);
        // The same create again: it makes the user, or meets Okta's "already exists": one user.
        const again = await tenant.as('POST', '/api/v1/users?activate=false', {
          profile: profileOf(login),
        });
        expect([200, 400]).toContain(again.status);
        if (again.status === 400) {
          expect(found.status).toBe(200);
          expect(again.body.errorCauses[0].errorSummary).toContain('already exists');
        }
        const users = await admin.store.smembers(`rm:users:${tenant.id}`);
        const withLogin = await Promise.all(
          users.map(
            async (id) => (await tenant.as('GET', `/api/v1/users/${id}`)).body.profile.login,
          ),
        );
        expect(withLogin.filter((l) => l === login)).toHaveLength(1);
      }
      // The keyed create, retried with its key: created now (the first changed nothing), or told that
      // the first was applied after all; one user either way, and the retry's answer is kept.
      expect(keyedFirst!.status).toBe(503);
      const retried = await keyed();
      if (keyedFirst!.body.errorSummary!.includes('Nothing was changed'))
        expect(retried.status).toBe(200);
      else expect([200, 409]).toContain(retried.status);
      const stored = await admin.store.smembers(`rm:users:${tenant.id}`);
      const keyedUsers = await Promise.all(
        stored.map(
          async (id) => (await tenant.as('GET', `/api/v1/users/${id}`)).body.profile.login,
        ),
      );
      expect(keyedUsers.filter((l) => l === keyedLogin)).toHaveLength(1);
      expect((await keyed()).status).toBe(retried.status);
      // At least one answer was the exact one: a request that never reached the log says so.
      expect(
        answers.some(({ answer }) => answer.body.errorSummary.includes('Nothing was changed')),
      ).toBe(true);
    });
  },
);
