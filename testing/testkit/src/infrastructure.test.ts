import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireInfrastructure } from './infrastructure.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-testkit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquireInfrastructure', () => {
  it('fails with one message naming every source it tried and why each failed', async () => {
    // Local scripts that fail the way a machine without a JDK or redis-server does.
    await writeFile(
      join(dir, 'kafka.sh'),
      'echo "kafka.sh: a JDK 17+ is needed to run Kafka" >&2; exit 1\n',
    );
    await writeFile(
      join(dir, 'redis.sh'),
      'echo "redis.sh: redis-server is not installed" >&2; exit 1\n',
    );
    const error = await acquireInfrastructure(() => {}, {
      env: {},
      containers: false,
      localInfraDir: dir,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('no Kafka and no Redis for the integration tests');
    expect(error?.message).toContain('GATEHOUSE_KAFKA_BROKERS: not set');
    expect(error?.message).toContain('GATEHOUSE_REDIS_URL: not set');
    expect(error?.message).toContain('testcontainers: not tried (disabled)');
    expect(error?.message).toMatch(
      /infra\/local: (kafka|redis)\.sh start failed: .*(JDK 17|redis-server is not installed)/,
    );
  });

  it('takes Kafka from the environment and still looks for a Redis', async () => {
    await writeFile(
      join(dir, 'redis.sh'),
      'echo "redis.sh: redis-server is not installed" >&2; exit 1\n',
    );
    const error = await acquireInfrastructure(() => {}, {
      env: { GATEHOUSE_KAFKA_BROKERS: '127.0.0.1:9092' },
      containers: false,
      localInfraDir: dir,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('no Redis for the integration tests');
    expect(error?.message).not.toContain('GATEHOUSE_KAFKA_BROKERS: not set');
  });
});
