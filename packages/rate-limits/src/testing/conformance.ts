// One suite for every rate limiter adapter: what the edges rely on (counts, refusals, windows,
// tenants and keys apart, per-tenant settings).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimiter } from '../rate-limiter.js';
import { type RateLimitConfig, rateLimitConfigOf } from '../rules.js';

export function describeRateLimiterConformance(options: {
  name: string;
  /** A limiter with `config`, its keys apart from every other test's. */
  open(config: RateLimitConfig, namespace: string): Promise<RateLimiter>;
}): void {
  describe(`rate limiter: ${options.name}`, () => {
    const opened: RateLimiter[] = [];
    let n = 0;
    const open = async (settings: unknown) => {
      const limiter = await options.open(
        rateLimitConfigOf(settings),
        `${process.pid}-${Date.now()}-${n++}`,
      );
      opened.push(limiter);
      return limiter;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
    });

    it('allows the limit, then refuses, counting down the remaining budget', async () => {
      const limiter = await open({ defaults: { signInLogin: { limit: 3, windowSeconds: 60 } } });
      const started = Date.now();
      const verdicts = [];
      for (let i = 0; i < 5; i++) verdicts.push(await limiter.take('t1', 'signInLogin', 'ann'));
      expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false, false]);
      expect(verdicts.map((v) => v.remaining)).toEqual([2, 1, 0, 0, 0]);
      for (const verdict of verdicts) {
        expect(verdict.limit).toBe(3);
        expect(verdict.resetAt).toBeGreaterThan(started);
        expect(verdict.resetAt).toBeLessThanOrEqual(Date.now() + 60_000);
      }
    });

    it('keeps keys, tenants and rules apart', async () => {
      const limiter = await open({
        defaults: {
          signInLogin: { limit: 1, windowSeconds: 60 },
          signInSource: { limit: 1, windowSeconds: 60 },
        },
      });
      expect((await limiter.take('t1', 'signInLogin', 'ann')).allowed).toBe(true);
      expect((await limiter.take('t1', 'signInLogin', 'ann')).allowed).toBe(false);
      expect((await limiter.take('t1', 'signInLogin', 'bob')).allowed).toBe(true);
      expect((await limiter.take('t2', 'signInLogin', 'ann')).allowed).toBe(true);
      expect((await limiter.take('t1', 'signInSource', 'ann')).allowed).toBe(true);
    });

    it("applies a tenant's own setting and the defaults to the others", async () => {
      const limiter = await open({
        defaults: { tokenClient: { limit: 2, windowSeconds: 60 } },
        tenants: { big: { tokenClient: { limit: 5, windowSeconds: 60 } } },
      });
      const allowed = async (tenant: string) => {
        let count = 0;
        for (let i = 0; i < 8; i++)
          if ((await limiter.take(tenant, 'tokenClient', 'c')).allowed) count++;
        return count;
      };
      expect(await allowed('big')).toBe(5);
      expect(await allowed('small')).toBe(2);
    });

    it('peeks without counting, and counts several points at once', async () => {
      const limiter = await open({
        defaults: { tokenClientFailures: { limit: 3, windowSeconds: 60 } },
      });
      const fresh = await limiter.peek('t1', 'tokenClientFailures', 'k');
      expect(fresh).toMatchObject({ allowed: true, limit: 3, remaining: 3 });
      expect((await limiter.peek('t1', 'tokenClientFailures', 'k')).remaining).toBe(3);
      expect((await limiter.take('t1', 'tokenClientFailures', 'k', 2)).remaining).toBe(1);
      expect(await limiter.peek('t1', 'tokenClientFailures', 'k')).toMatchObject({
        allowed: true,
        remaining: 1,
      });
      await limiter.take('t1', 'tokenClientFailures', 'k');
      expect(await limiter.peek('t1', 'tokenClientFailures', 'k')).toMatchObject({
        allowed: false,
        remaining: 0,
      });
    });

    it('gives points back, so a rule can count only what failed, strictly under concurrency', async () => {
      const limiter = await open({
        defaults: { tokenClientFailures: { limit: 5, windowSeconds: 60 } },
      });
      // 30 attempts at once, each taking a point first; those that "succeed" give it back.
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const verdict = await limiter.take('t1', 'tokenClientFailures', 'k');
          if (!verdict.allowed) return 'refused';
          if (i % 2 === 0) {
            await limiter.giveBack('t1', 'tokenClientFailures', 'k');
            return 'succeeded';
          }
          return 'failed';
        }),
      );
      const failed = outcomes.filter((outcome) => outcome === 'failed').length;
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThanOrEqual(5);
      expect(outcomes).toContain('refused');
      // Sequentially: what is given back is available again.
      const other = await limiter.take('t1', 'tokenClientFailures', 'other');
      expect(other.remaining).toBe(4);
      await limiter.giveBack('t1', 'tokenClientFailures', 'other');
      expect((await limiter.peek('t1', 'tokenClientFailures', 'other')).remaining).toBe(5);
    });

    it('starts a new budget when the window ends', async () => {
      const limiter = await open({ defaults: { signInSource: { limit: 1, windowSeconds: 1 } } });
      expect((await limiter.take('t1', 'signInSource', '10.0.0.1')).allowed).toBe(true);
      const refused = await limiter.take('t1', 'signInSource', '10.0.0.1');
      expect(refused.allowed).toBe(false);
      // The real window is what this proves: wait until it has passed.
      await sleep(Math.max(0, refused.resetAt - Date.now()) + 50);
      expect((await limiter.take('t1', 'signInSource', '10.0.0.1')).allowed).toBe(true);
    });
  });
}
