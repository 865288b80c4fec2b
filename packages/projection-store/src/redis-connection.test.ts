import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRedisConnection, redisUrlForLogs } from './redis-connection.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('readRedisConnection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-redis-settings-'));
    await writeFile(join(dir, 'ca.pem'), pem);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes the ACL user and password from their variables, or leaves them in the URL', () => {
    expect(
      readRedisConnection({
        GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379/0',
        GATEHOUSE_REDIS_USERNAME: 'gatehouse',
        GATEHOUSE_REDIS_PASSWORD: 'pw',
      }),
    ).toEqual({
      url: 'redis://127.0.0.1:6379/0',
      redis: { username: 'gatehouse', password: 'pw' },
    });
    expect(readRedisConnection({ GATEHOUSE_REDIS_URL: 'redis://u:p@redis:6379' })).toEqual({
      url: 'redis://u:p@redis:6379',
      redis: {},
    });
    expect(redisUrlForLogs('redis://u:p@redis:6379')).toBe('redis://u:***@redis:6379');
  });

  it('speaks TLS for rediss://, with the CA of GATEHOUSE_REDIS_TLS_CA when given', () => {
    expect(readRedisConnection({ GATEHOUSE_REDIS_URL: 'rediss://redis:6380' }).redis).toEqual({
      tls: {},
    });
    expect(
      readRedisConnection({
        GATEHOUSE_REDIS_URL: 'rediss://redis:6380',
        GATEHOUSE_REDIS_TLS_CA: join(dir, 'ca.pem'),
      }).redis,
    ).toEqual({ tls: { ca: [pem] } });
  });

  it('stops at start, naming the variable, on settings that cannot work', () => {
    const fails = (env: Record<string, string>) => () =>
      readRedisConnection({ GATEHOUSE_REDIS_URL: 'redis://redis:6379', ...env });
    expect(fails({ GATEHOUSE_REDIS_URL: 'http://redis' })).toThrow(
      'GATEHOUSE_REDIS_URL: must use redis: or rediss:, not http:',
    );
    expect(fails({ GATEHOUSE_REDIS_USERNAME: 'gatehouse' })).toThrow(
      'GATEHOUSE_REDIS_PASSWORD: is required with GATEHOUSE_REDIS_USERNAME',
    );
    expect(
      fails({ GATEHOUSE_REDIS_URL: 'redis://u:p@redis:6379', GATEHOUSE_REDIS_PASSWORD: 'q' }),
    ).toThrow('GATEHOUSE_REDIS_PASSWORD: GATEHOUSE_REDIS_URL already carries credentials');
    expect(fails({ GATEHOUSE_REDIS_TLS_CA: join(dir, 'ca.pem') })).toThrow(
      'GATEHOUSE_REDIS_TLS_CA: is set, but GATEHOUSE_REDIS_URL is not rediss:// (TLS)',
    );
    expect(
      fails({
        GATEHOUSE_REDIS_URL: 'rediss://redis:6380',
        GATEHOUSE_REDIS_TLS_CA: join(dir, 'missing.pem'),
      }),
    ).toThrow(`GATEHOUSE_REDIS_TLS_CA: cannot read ${join(dir, 'missing.pem')}: ENOENT`);
  });
});
