// Attacks on the public endpoints' capacity, through the public URL only (issue 16, findings 4 and
// 5): guessing a client's secret at /token, /introspect and /revoke, and a flood of sign-ins with
// random logins from one source, which would each cost a full password hash. The sources are told
// apart by X-Forwarded-For, which each deployment believes from its edge on this machine only.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApp, type E2eTenant, newE2eTenant, password } from '../suite.js';
import type { AllInOneTarget, StackTarget, Target } from '../targets.js';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function introspectAs(
  issuer: string,
  clientId: string,
  secret: string,
  source: string,
  base = issuer,
) {
  const response = await fetch(`${base}/v1/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(clientId, secret),
      'x-forwarded-for': source,
    },
    body: new URLSearchParams({ token: 'not-a-token' }).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

export async function authnFrom(org: string, source: string, username: string, secret: string) {
  const started = performance.now();
  const response = await fetch(`${org}/api/v1/authn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': source },
    body: JSON.stringify({ username, password: secret }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - started };
}

export function defineThrottleAttacks(label: string, target: () => Target): void {
  describe(`security: throttles (${label})`, () => {
    const app = new ClientApp();
    let tenant: E2eTenant;
    beforeAll(async () => {
      await app.start();
      tenant = await newE2eTenant(target(), app);
    });
    afterAll(() => app.stop());

    it("stops guessing a client's secret: 429 E0000047 after 20 failures from one source, not elsewhere", async () => {
      const attacker = `198.51.100.${10 + (randomBytes(1)[0]! % 200)}`;
      const guesses = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          introspectAs(tenant.issuer, tenant.web.clientId, `guess-${i}`, attacker),
        ),
      );
      const statuses = guesses.map((guess) => guess.status);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(20);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(40);
      const refused = guesses.find((guess) => guess.status === 429)!;
      expect(refused.body).toMatchObject({ errorCode: 'E0000047', errorCauses: [] });
      expect(refused.headers.get('x-rate-limit-limit')).toBe('20');
      expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(Number(refused.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
      // The right secret from that source is refused too (nothing is checked any more); from
      // another source the client authenticates.
      const fromAttacker = await introspectAs(
        tenant.issuer,
        tenant.web.clientId,
        tenant.web.clientSecret,
        attacker,
      );
      expect(fromAttacker.status).toBe(429);
      const elsewhere = await introspectAs(
        tenant.issuer,
        tenant.web.clientId,
        tenant.web.clientSecret,
        '203.0.113.77',
      );
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body).toEqual({ active: false });
      expect(elsewhere.headers.get('x-rate-limit-limit')).toBe('6000');
    });

    it('keeps sign-in working under a flood of bad sign-ins with random logins from one source', async () => {
      const flooder = `198.51.100.${10 + (randomBytes(1)[0]! % 200)}`;
      const flood = Promise.all(
        Array.from({ length: 200 }, () =>
          authnFrom(
            tenant.org,
            flooder,
            `random-${randomBytes(6).toString('hex')}@example.com`,
            'Wrong-Password-1',
          ),
        ),
      );
      // A genuine sign-in from elsewhere, while the flood is on.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const genuine = await authnFrom(tenant.org, '203.0.113.20', tenant.user.login, password);
      const flooded = await flood;
      expect(genuine.status).toBe(200);
      expect(genuine.body.status).toBe('SUCCESS');
      const statuses = flooded.map((reply) => reply.status);
      // The flooder's share of the password checks is a few places; the rest are refused at once.
      expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(150);
      expect(flooded.find((reply) => reply.status === 429)!.body).toMatchObject({
        errorCode: 'E0000047',
      });
      process.stdout.write(
        `${label}: genuine sign-in during a flood of 200 from one source: ${genuine.ms.toFixed(0)} ms; flood: ${statuses.filter((s) => s === 429).length} refused (429), ${statuses.filter((s) => s === 401).length} checked (401)\n`,
      );
    });
  });
}

/** The stack only: a second token process shares the budget, so the limit is the total. */
export function defineDistributedThrottle(target: () => StackTarget): void {
  describe('security: throttles across replicas (distributed stack)', () => {
    const app = new ClientApp();
    let tenant: E2eTenant;
    beforeAll(async () => {
      await app.start();
      tenant = await newE2eTenant(target(), app);
    });
    afterAll(() => app.stop());

    it('holds one failure budget across two token processes: 20 in total, not 20 each', async () => {
      const replica = await target().stack.addReplica('token');
      try {
        const attacker = `198.51.100.${10 + (randomBytes(1)[0]! % 200)}`;
        const path = new URL(tenant.issuer).pathname;
        const bases = [tenant.issuer, `http://127.0.0.1:${replica.httpPort}${path}`];
        const guesses = [];
        for (let i = 0; i < 40; i++)
          guesses.push(
            await introspectAs(
              tenant.issuer,
              tenant.web.clientId,
              `guess-${i}`,
              attacker,
              bases[i % 2],
            ),
          );
        const statuses = guesses.map((guess) => guess.status);
        expect(statuses.filter((status) => status === 401)).toHaveLength(20);
        expect(statuses.slice(20).every((status) => status === 429)).toBe(true);
        // Both processes answer the right secret from elsewhere.
        for (const base of bases)
          expect(
            (
              await introspectAs(
                tenant.issuer,
                tenant.web.clientId,
                tenant.web.clientSecret,
                '203.0.113.78',
                base,
              )
            ).status,
          ).toBe(200);
      } finally {
        await replica.stop();
      }
    });
  });
}

/** The all-in-one only: what it keeps on disk is the owner's alone, and the demo says what it is. */
export function defineDataAtRest(target: () => AllInOneTarget): void {
  describe('security: data at rest (all-in-one)', () => {
    it('keeps the data directory 0700 and every file in it 0600; demo.json says it is demo-only', async () => {
      const { dataDir } = target();
      const loose: string[] = [];
      let files = 0;
      const walk = async (dir: string): Promise<void> => {
        if (((await stat(dir)).mode & 0o777) !== 0o700) loose.push(dir);
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) await walk(path);
          else if (entry.isFile()) {
            files++;
            if (((await stat(path)).mode & 0o777) !== 0o600) loose.push(path);
          }
        }
      };
      await walk(dataDir);
      expect(files).toBeGreaterThan(3);
      expect(loose).toEqual([]);
      const demo = JSON.parse(await readFile(join(dataDir, 'demo.json'), 'utf8'));
      expect(demo.notice).toMatch(/^DEMO ONLY/);
    });
  });
}
