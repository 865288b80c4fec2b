// The rate limiter port and its two adapters, both rate-limiter-flexible: Redis (one budget shared
// by every replica of a service, and by the services that count the same rule) and memory (the
// all-in-one, one process). Keys are hashed: a login or an address is not stored in the clear.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import {
  defaultRateLimitConfig,
  type RateLimitConfig,
  type Rule,
  type RuleName,
  ruleFor,
} from './rules.js';

/** What a request learns of its budget: Okta's X-Rate-Limit-Limit, -Remaining and -Reset. */
export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the window ends, in epoch ms. */
  resetAt: number;
}

export interface RateLimiter {
  /** Counts `points` (default 1) against the tenant's rule for `key`; refused past the limit. */
  take(tenant: string, rule: RuleName, key: string, points?: number): Promise<RateLimitVerdict>;
  /** The budget as it stands, without counting. */
  peek(tenant: string, rule: RuleName, key: string): Promise<RateLimitVerdict>;
  /**
   * Gives back `points` taken in this window: for rules that count only failures, a request takes
   * a point first (so concurrent requests cannot all pass one last point) and gives it back when
   * it did not fail.
   */
  giveBack(tenant: string, rule: RuleName, key: string, points?: number): Promise<void>;
  close(): Promise<void>;
}

type LimiterOf = (rule: Rule, keyPrefix: string) => RateLimiterAbstract;

/** A budget's count and the time left in its window, or null when it has none running. */
type Count = { consumedPoints: number; msBeforeNext: number } | null;
/**
 * Reads a budget's count without rate-limiter-flexible's `get`, which sends MULTI GET PTTL EXEC as
 * a request of its own; undefined: use `get` (the store cannot answer now, or there is no faster way).
 */
type CountOf = (limiter: RateLimiterAbstract, key: string) => Promise<Count> | undefined;

class FlexibleRateLimiter implements RateLimiter {
  // One rate-limiter-flexible instance per rule and setting: a tenant with its own setting counts in
  // windows of its own, and a changed setting starts fresh windows.
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly limiterOf: LimiterOf,
    private readonly now: () => number,
    private readonly onClose: () => Promise<void> = async () => {},
    /** Settles once the store has been reached (or given up on) the first time. */
    private readonly connected: Promise<void> = Promise.resolve(),
    private readonly countOf: CountOf = () => undefined,
  ) {}

  private limiter(tenant: string, name: RuleName) {
    const rule = ruleFor(this.config, tenant, name);
    const id = `${name}:${rule.limit}:${rule.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = this.limiterOf(rule, `rl:${id}`);
      this.limiters.set(id, limiter);
    }
    return { rule, limiter };
  }

  private verdict(rule: Rule, result: RateLimiterRes | null, allowed: boolean): RateLimitVerdict {
    const consumed = result?.consumedPoints ?? 0;
    return {
      allowed,
      limit: rule.limit,
      remaining: Math.max(0, rule.limit - consumed),
      resetAt: this.now() + (result ? result.msBeforeNext : rule.windowSeconds * 1000),
    };
  }

  async take(tenant: string, name: RuleName, key: string, points = 1): Promise<RateLimitVerdict> {
    const { rule, limiter } = this.limiter(tenant, name);
    await this.connected;
    try {
      return this.verdict(rule, await limiter.consume(keyOf(tenant, key), points), true);
    } catch (refused) {
      if (refused instanceof RateLimiterRes) return this.verdict(rule, refused, false);
      throw refused;
    }
  }

  async peek(tenant: string, name: RuleName, key: string): Promise<RateLimitVerdict> {
    const { rule, limiter } = this.limiter(tenant, name);
    await this.connected;
    const hashed = keyOf(tenant, key);
    // undefined: no faster way now; null is an answer (no count running), not a reason to ask again.
    const counting = this.countOf(limiter, hashed);
    const result = counting === undefined ? await limiter.get(hashed) : await counting;
    return this.verdict(
      rule,
      result as RateLimiterRes | null,
      (result?.consumedPoints ?? 0) < rule.limit,
    );
  }

  async giveBack(tenant: string, name: RuleName, key: string, points = 1): Promise<void> {
    const { limiter } = this.limiter(tenant, name);
    await limiter.reward(keyOf(tenant, key), points);
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

const keyOf = (tenant: string, key: string) =>
  createHash('sha256').update(tenant).update('\0').update(key).digest('base64url');

/** One process's budgets (the all-in-one, and the services on the in-memory store in tests). */
export function memoryRateLimiter(
  config: RateLimitConfig = defaultRateLimitConfig,
  now: () => number = Date.now,
): RateLimiter {
  return new FlexibleRateLimiter(
    config,
    (rule, keyPrefix) =>
      new RateLimiterMemory({ points: rule.limit, duration: rule.windowSeconds, keyPrefix }),
    now,
  );
}

export interface RedisRateLimiterOptions {
  /** GATEHOUSE_REDIS_URL: the Redis the read models are in. */
  url: string;
  /** Prepended to every key; the projection store's prefix keeps deployments on one Redis apart. */
  keyPrefix?: string;
  /** More ioredis options (TLS, ACL user, Sentinels), as readRedisConnection gives them. */
  redis?: RedisOptions;
}

/**
 * Budgets in Redis, shared by every process that uses the same Redis and prefix. Should Redis fail,
 * each process counts in memory until it is back (rate-limiter-flexible's insurance limiter): the
 * limits hold per replica meanwhile, and sign-ins and tokens keep working.
 */
export function redisRateLimiter(
  config: RateLimitConfig,
  options: RedisRateLimiterOptions,
  now: () => number = Date.now,
): RateLimiter {
  const redisOptions: RedisOptions = {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    ...options.redis,
  };
  // With Sentinel (readRedisConnection puts the Sentinels in `redis`), the URL names no node.
  const client = redisOptions.sentinels
    ? new Redis(redisOptions)
    : new Redis(options.url, redisOptions);
  // A down Redis shows as the insurance limiter taking over; ioredis would print every reconnect.
  client.on('error', () => {});
  // Until Redis first answers, requests wait for it (a new process would otherwise count its first
  // requests in memory); after that, a Redis that is not ready sends requests to the insurance
  // limiter at once rather than letting each wait for a timeout.
  const connected = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    setTimeout(resolve, 2000).unref();
  });
  const prefix = options.keyPrefix ?? 'gh:';
  // A budget's count in one script call (EVALSHA): auto-pipelined with the calls beside it (a
  // request's take of another budget), where `get` would send a transaction of its own.
  client.defineCommand('gatehouseRateCount', {
    numberOfKeys: 1,
    lua: "return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}",
  });
  const countInRedis: CountOf = (limiter, key) => {
    // Redis not ready: `get`, which answers from the insurance limiter as `take` does.
    if (client.status !== 'ready') return undefined;
    return (
      client as unknown as {
        gatehouseRateCount(key: string): Promise<[string | null, number]>;
      }
    )
      .gatehouseRateCount(limiter.getKey(key))
      .then(([consumed, ttl]) =>
        consumed === null
          ? null
          : { consumedPoints: Number(consumed), msBeforeNext: Math.max(0, ttl) },
      )
      .catch(() => limiter.get(key));
  };
  return new FlexibleRateLimiter(
    config,
    (rule, keyPrefix) =>
      new RateLimiterRedis({
        storeClient: client,
        points: rule.limit,
        duration: rule.windowSeconds,
        keyPrefix: `${prefix}${keyPrefix}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({
          points: rule.limit,
          duration: rule.windowSeconds,
          keyPrefix,
        }),
      }),
    now,
    async () => {
      client.disconnect();
    },
    connected,
    countInRedis,
  );
}
