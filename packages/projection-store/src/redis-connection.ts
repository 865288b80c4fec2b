// How a service reaches Redis: the URL (one Redis, or Sentinels and the name of the primary they
// watch) and, where Redis asks for them, an ACL user and password and TLS with a private CA, and how
// many replicas must hold a write before it is answered; read from the environment, checked at start.
import { readFileSync } from 'node:fs';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import type { RedisOptions } from 'ioredis';

export interface RedisConnection {
  /**
   * GATEHOUSE_REDIS_URL (required): `redis://host:port/db`, or `rediss://` for TLS; it may carry
   * the ACL user and password (`redis://user:password@host:port`). With Redis Sentinel:
   * `redis+sentinel://host:port,host:port,host:port/name`, the Sentinels (any one that answers will
   * do) and the master name they monitor; clients follow the primary across failovers. The ACL
   * settings are the data nodes'; the Sentinels are reached without credentials and without TLS.
   */
  url: string;
  /**
   * GATEHOUSE_REDIS_WAIT_REPLICAS: how many replicas must have a write (Redis WAIT, sent in the
   * same round trip right after it) before the store answers it; a write they do not confirm within
   * GATEHOUSE_REDIS_WAIT_TIMEOUT_MS fails as unavailable (503), even when the primary has no
   * replica at all: a write only the primary holds is lost if it dies. Default 1 with Sentinel, 0
   * (no WAIT) with one Redis. Set 0 to keep writing through a replica's outage, at the price of
   * losing what the primary had not passed on when it fails. Undefined here: the store's default.
   */
  waitReplicas?: number;
  /** GATEHOUSE_REDIS_WAIT_TIMEOUT_MS: the WAIT's bound. Default 500 ms. */
  waitTimeoutMs?: number;
  /**
   * GATEHOUSE_REDIS_USERNAME and GATEHOUSE_REDIS_PASSWORD: the ACL user and its password, kept out
   * of the URL (a password alone authenticates as Redis's `default` user). GATEHOUSE_REDIS_TLS_CA:
   * a PEM file of the CA of Redis's certificate (with a `rediss://` URL; without it, the system's).
   */
  redis: RedisOptions;
}

/** The URL with its password masked, for logs and messages. */
export function redisUrlForLogs(url: string): string {
  if (url.startsWith('redis+sentinel:')) return url.replace(/\/\/[^@/]*@/, '//***@');
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

/** Sentinels and master name of a `redis+sentinel://h:p,h:p/name` URL; undefined for other URLs. */
export function parseSentinelUrl(
  url: string,
): { sentinels: { host: string; port: number }[]; name: string } | undefined {
  const match = /^redis\+sentinel:\/\/([^/]*)\/([^/?#]+)$/.exec(url);
  if (!url.startsWith('redis+sentinel:')) return undefined;
  if (!match)
    throw new ConfigError(
      'GATEHOUSE_REDIS_URL',
      `"${url}" is not redis+sentinel://host:port,host:port/name`,
    );
  const sentinels = match[1]!.split(',').map((address) => {
    const parsed = /^([^:,@]+):(\d{1,5})$/.exec(address.trim());
    const port = Number(parsed?.[2]);
    if (!parsed || port < 1 || port > 65535)
      throw new ConfigError('GATEHOUSE_REDIS_URL', `"${address}" is not a Sentinel's host:port`);
    return { host: parsed[1]!, port };
  });
  return { sentinels, name: decodeURIComponent(match[2]!) };
}

/**
 * ioredis's options for a Sentinel URL: it asks the Sentinels for the primary, checks that what it
 * reaches is the primary (role master), and reconnects when they announce a new one
 * (failoverDetector) or when the node it is on answers READONLY (demoted behind its back). Commands
 * sent meanwhile wait in the offline queue, bounded by the callers' timeouts as with one Redis.
 */
export function sentinelRedisOptions(url: string): RedisOptions | undefined {
  const parsed = parseSentinelUrl(url);
  if (!parsed) return undefined;
  return {
    sentinels: parsed.sentinels,
    name: parsed.name,
    role: 'master',
    failoverDetector: true,
    // Never give up on the Sentinels (null would end the client): a second at most between rounds.
    sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
    sentinelCommandTimeout: 500,
    // Back to the primary soon after the Sentinels name a new one: ioredis's default backs off to
    // 2 s between tries, which would add up to that to every failover.
    retryStrategy: (times) => Math.min(times * 50, 500),
    // The failed command is not sent again (1, not 2): a write that met READONLY did nothing, and
    // its caller gets the error and decides.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
  };
}

export function readRedisConnection(env: Environment): RedisConnection {
  const raw = env.GATEHOUSE_REDIS_URL?.trim() ?? '';
  const sentinel = raw.startsWith('redis+sentinel:') ? sentinelRedisOptions(raw) : undefined;
  const url = sentinel
    ? new URL('redis://sentinel')
    : setting.url(env, 'GATEHOUSE_REDIS_URL', { protocols: ['redis:', 'rediss:'] });
  const redis: RedisOptions = { ...sentinel };
  const waitReplicas =
    env.GATEHOUSE_REDIS_WAIT_REPLICAS === undefined
      ? undefined
      : setting.integer(env, 'GATEHOUSE_REDIS_WAIT_REPLICAS', { default: 0, min: 0, max: 16 });
  const waitTimeoutMs =
    env.GATEHOUSE_REDIS_WAIT_TIMEOUT_MS === undefined
      ? undefined
      : setting.integer(env, 'GATEHOUSE_REDIS_WAIT_TIMEOUT_MS', {
          default: 500,
          min: 1,
          max: 60_000,
        });
  const durability = {
    ...(waitReplicas === undefined ? {} : { waitReplicas }),
    ...(waitTimeoutMs === undefined ? {} : { waitTimeoutMs }),
  };
  const username = setting.optionalString(env, 'GATEHOUSE_REDIS_USERNAME');
  const password = env.GATEHOUSE_REDIS_PASSWORD || undefined; // spaces may belong to it
  if ((username !== undefined || password !== undefined) && (url.username || url.password))
    throw new ConfigError(
      'GATEHOUSE_REDIS_PASSWORD',
      'GATEHOUSE_REDIS_URL already carries credentials: give them in one place',
    );
  if (username !== undefined && password === undefined)
    throw new ConfigError('GATEHOUSE_REDIS_PASSWORD', 'is required with GATEHOUSE_REDIS_USERNAME');
  if (username !== undefined) redis.username = username;
  if (password !== undefined) redis.password = password;

  const caFile = setting.optionalString(env, 'GATEHOUSE_REDIS_TLS_CA');
  if (caFile && sentinel)
    throw new ConfigError(
      'GATEHOUSE_REDIS_TLS_CA',
      'is set, but TLS with Sentinel (redis+sentinel://) is not supported',
    );
  if (caFile && url.protocol !== 'rediss:')
    throw new ConfigError(
      'GATEHOUSE_REDIS_TLS_CA',
      'is set, but GATEHOUSE_REDIS_URL is not rediss:// (TLS)',
    );
  if (url.protocol === 'rediss:') {
    let ca: string | undefined;
    if (caFile) {
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        throw new ConfigError(
          'GATEHOUSE_REDIS_TLS_CA',
          `cannot read ${caFile}: ${(error as NodeJS.ErrnoException).code}`,
        );
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----'))
        throw new ConfigError('GATEHOUSE_REDIS_TLS_CA', `${caFile} holds no PEM certificate`);
    }
    // ioredis reads no TLS from the URL's scheme: without this, rediss:// would go out in the clear.
    redis.tls = ca ? { ca: [ca] } : {};
  }
  return { url: sentinel ? raw : url.href, redis, ...durability };
}
