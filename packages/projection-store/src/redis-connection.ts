// How a service reaches Redis: the URL and, where Redis asks for them, an ACL user and password and
// TLS with a private CA, read from the environment and checked at start.
import { readFileSync } from 'node:fs';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import type { RedisOptions } from 'ioredis';

export interface RedisConnection {
  /**
   * GATEHOUSE_REDIS_URL (required): `redis://host:port/db`, or `rediss://` for TLS; it may carry
   * the ACL user and password (`redis://user:password@host:port`).
   */
  url: string;
  /**
   * GATEHOUSE_REDIS_USERNAME and GATEHOUSE_REDIS_PASSWORD: the ACL user and its password, kept out
   * of the URL (a password alone authenticates as Redis's `default` user). GATEHOUSE_REDIS_TLS_CA:
   * a PEM file of the CA of Redis's certificate (with a `rediss://` URL; without it, the system's).
   */
  redis: RedisOptions;
}

/** The URL with its password masked, for logs and messages. */
export function redisUrlForLogs(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

export function readRedisConnection(env: Environment): RedisConnection {
  const url = setting.url(env, 'GATEHOUSE_REDIS_URL', { protocols: ['redis:', 'rediss:'] });
  const redis: RedisOptions = {};
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
  return { url: url.href, redis };
}
