// Redis with ACLs, as a secured deployment runs it: a Redis of the test's own whose default user is
// off and whose one user needs a password. The store gets in with the credentials of
// GATEHOUSE_REDIS_USERNAME/_PASSWORD or of the URL, and is refused without them.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRedisConnection } from './redis-connection.js';
import { RedisProjectionStore } from './redis-projection-store.js';

const user = 'gatehouse-test';
const password = 'correct horse battery staple';

describe('RedisProjectionStore against a Redis with ACLs', () => {
  let redis: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        // No anonymous access: the default user is off; ours may do anything, with its password.
        '--user',
        'default',
        'off',
        '--user',
        user,
        'on',
        `>${password}`,
        '~*',
        '&*',
        '+@all',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    redis.stdout!.on('data', (chunk) => {
      output += chunk;
    });
    const deadline = Date.now() + 10_000;
    while (!output.includes('Ready to accept connections')) {
      if (redis.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (redis && redis.exitCode === null) {
      redis.kill('SIGTERM');
      await once(redis, 'exit');
    }
  });

  const open = (env: Record<string, string>) => {
    const connection = readRedisConnection(env);
    return new RedisProjectionStore({
      url: connection.url,
      redis: connection.redis,
      keyPrefix: 'test:acl:',
      commandTimeoutMs: 1000,
    });
  };
  const roundTrip = async (store: RedisProjectionStore) => {
    try {
      await store.set('k', 'v');
      return await store.get('k');
    } finally {
      await store.close();
    }
  };

  it('connects with GATEHOUSE_REDIS_USERNAME and GATEHOUSE_REDIS_PASSWORD', async () => {
    const store = open({
      GATEHOUSE_REDIS_URL: url,
      GATEHOUSE_REDIS_USERNAME: user,
      GATEHOUSE_REDIS_PASSWORD: password,
    });
    expect(await roundTrip(store)).toBe('v');
  });

  it('connects with the credentials in the URL', async () => {
    const inUrl = new URL(url);
    inUrl.username = user;
    inUrl.password = password;
    expect(await roundTrip(open({ GATEHOUSE_REDIS_URL: inUrl.href }))).toBe('v');
  });

  it('is refused without credentials, and with a wrong password', async () => {
    await expect(roundTrip(open({ GATEHOUSE_REDIS_URL: url }))).rejects.toThrow(
      /NOAUTH|authentication/i,
    );
    await expect(
      roundTrip(
        open({
          GATEHOUSE_REDIS_URL: url,
          GATEHOUSE_REDIS_USERNAME: user,
          GATEHOUSE_REDIS_PASSWORD: 'wrong',
        }),
      ),
    ).rejects.toThrow(/WRONGPASS|invalid username-password|authentication/i);
  });
});
