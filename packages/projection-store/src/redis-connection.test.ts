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

  it('reads Sentinels and the master name from a redis+sentinel:// URL', () => {
    const connection = readRedisConnection({
      GATEHOUSE_REDIS_URL: 'redis+sentinel://10.0.0.1:26379,sentinel-b:26380/gatehouse',
      GATEHOUSE_REDIS_PASSWORD: 'pw',
      GATEHOUSE_REDIS_WAIT_REPLICAS: '2',
      GATEHOUSE_REDIS_WAIT_TIMEOUT_MS: '250',
    });
    expect(connection).toMatchObject({
      url: 'redis+sentinel://10.0.0.1:26379,sentinel-b:26380/gatehouse',
      waitReplicas: 2,
      waitTimeoutMs: 250,
      redis: {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: 'sentinel-b', port: 26380 },
        ],
        name: 'gatehouse',
        role: 'master',
        failoverDetector: true,
        password: 'pw',
      },
    });
    expect(readRedisConnection({ GATEHOUSE_REDIS_URL: 'redis://r:6379' })).not.toHaveProperty(
      'waitReplicas',
    );
    expect(redisUrlForLogs('redis+sentinel://a:1,b:2/gatehouse')).toBe(
      'redis+sentinel://a:1,b:2/gatehouse',
    );
  });

  it('names GATEHOUSE_REDIS_URL or the WAIT settings when a Sentinel setting is wrong', () => {
    const fails = (env: Record<string, string>) => () => readRedisConnection(env);
    expect(fails({ GATEHOUSE_REDIS_URL: 'redis+sentinel://a:1,b/gatehouse' })).toThrow(
      `GATEHOUSE_REDIS_URL: "b" is not a Sentinel's host:port`,
    );
    expect(fails({ GATEHOUSE_REDIS_URL: 'redis+sentinel://a:1' })).toThrow(
      'GATEHOUSE_REDIS_URL: "redis+sentinel://a:1" is not redis+sentinel://host:port,host:port/name',
    );
    expect(
      fails({ GATEHOUSE_REDIS_URL: 'redis://r:6379', GATEHOUSE_REDIS_WAIT_REPLICAS: 'one' }),
    ).toThrow('GATEHOUSE_REDIS_WAIT_REPLICAS: must be a whole number from 0 to 16');
    expect(
      fails({
        GATEHOUSE_REDIS_URL: 'redis+sentinel://a:1/gatehouse',
        GATEHOUSE_REDIS_TLS_CA: join(dir, 'ca.pem'),
      }),
    ).toThrow('GATEHOUSE_REDIS_TLS_CA: is set, but TLS with Sentinel');
  });
});
