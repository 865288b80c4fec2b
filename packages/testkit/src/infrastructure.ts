// Finds or starts the Kafka broker and Redis server that integration tests use, in this order:
//   1. GATEHOUSE_KAFKA_BROKERS / GATEHOUSE_REDIS_URL, when set (each on its own);
//   2. testcontainers, when a container runtime answers;
//   3. infra/local: Kafka from Maven Central on the JDK and Debian's redis-server, on 127.0.0.1.
// When none works it fails with one message that says what was tried and why each failed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);
/** The repository's infra/local, from src/ and dist/ alike. */
export const defaultInfraDir = fileURLToPath(new URL('../../../infra/local', import.meta.url));

export type Source = 'environment' | 'testcontainers' | 'infra/local';

export interface KafkaHandle {
  brokers: string[];
  version: string;
  source: Source;
  /** Present when tests may stop and restart the broker: the infra/local state directory. */
  localDir?: string;
}

export interface RedisHandle {
  url: string;
  version: string;
  source: Source;
}

export interface TestInfrastructure {
  kafka: KafkaHandle;
  redis: RedisHandle;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

export interface AcquireOptions {
  /** Where GATEHOUSE_KAFKA_BROKERS and GATEHOUSE_REDIS_URL are read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Whether to try testcontainers. Default true. */
  containers?: boolean;
  /** The folder of kafka.sh and redis.sh. Default the repository's infra/local. */
  localInfraDir?: string;
}

export async function acquireInfrastructure(
  log: Log = console.info,
  options: AcquireOptions = {},
): Promise<TestInfrastructure> {
  const env = options.env ?? process.env;
  const infraDir = options.localInfraDir ?? defaultInfraDir;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse())
      await s().catch((error: unknown) => log(`testkit: stop failed: ${String(error)}`));
  };
  try {
    const attempts: string[] = [];
    const fromEnv = {
      kafka: env.GATEHOUSE_KAFKA_BROKERS,
      redis: env.GATEHOUSE_REDIS_URL,
    };
    let kafka: KafkaHandle | undefined = fromEnv.kafka
      ? {
          brokers: fromEnv.kafka
            .split(',')
            .map((b) => b.trim())
            .filter(Boolean),
          version: 'unknown (external broker)',
          source: 'environment',
        }
      : undefined;
    let redis: RedisHandle | undefined = fromEnv.redis
      ? { url: fromEnv.redis, version: '', source: 'environment' }
      : undefined;
    if (!fromEnv.kafka) attempts.push('GATEHOUSE_KAFKA_BROKERS: not set');
    if (!fromEnv.redis) attempts.push('GATEHOUSE_REDIS_URL: not set');

    if ((!kafka || !redis) && options.containers === false) {
      attempts.push('testcontainers: not tried (disabled)');
    } else if (!kafka || !redis) {
      const containers = await startWithContainers({ kafka: !kafka, redis: !redis }, log).catch(
        (error: unknown) => {
          attempts.push(`testcontainers: ${firstLine(error)}`);
          return undefined;
        },
      );
      if (containers) {
        stops.push(containers.stop);
        kafka ??= containers.kafka;
        redis ??= containers.redis;
      }
    }
    if (!kafka || !redis) {
      const local = await startLocally({ kafka: !kafka, redis: !redis }, infraDir, log).catch(
        (error: unknown) => {
          attempts.push(`infra/local: ${firstLine(error)}`);
          return undefined;
        },
      );
      if (local) {
        stops.push(local.stop);
        kafka ??= local.kafka;
        redis ??= local.redis;
      }
    }
    if (!kafka || !redis) {
      throw new Error(
        `no ${!kafka ? 'Kafka' : ''}${!kafka && !redis ? ' and no ' : ''}${!redis ? 'Redis' : ''} for the integration tests. Tried:\n  - ${attempts.join('\n  - ')}\n` +
          'Set GATEHOUSE_KAFKA_BROKERS and GATEHOUSE_REDIS_URL, start a Docker engine, or install a JDK 17+, Maven and redis-server for infra/local.',
      );
    }
    redis.version ||= await redisVersion(redis.url);
    log(`testkit: Kafka ${kafka.version} at ${kafka.brokers.join(',')} (${kafka.source})`);
    log(`testkit: Redis ${redis.version} at ${redis.url} (${redis.source})`);
    return { kafka, redis, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startWithContainers(
  need: { kafka: boolean; redis: boolean },
  log: Log,
): Promise<{ kafka?: KafkaHandle; redis?: RedisHandle; stop: () => Promise<void> }> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  await getContainerRuntimeClient(); // throws at once when no engine answers
  log('testkit: a container runtime answers; starting containers');
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const container of started) await container.stop();
  };
  try {
    let kafka: KafkaHandle | undefined;
    let redis: RedisHandle | undefined;
    if (need.kafka) {
      const { KafkaContainer } = await import('@testcontainers/kafka');
      const image = process.env.GATEHOUSE_TEST_KAFKA_IMAGE ?? 'confluentinc/cp-kafka:8.1.0';
      const container = await new KafkaContainer(image)
        .withKraft()
        .withEnvironment({
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        })
        .start();
      started.push(container);
      kafka = {
        brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
        version: `image ${image}`,
        source: 'testcontainers',
      };
    }
    if (need.redis) {
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer(
        process.env.GATEHOUSE_TEST_REDIS_IMAGE ?? 'redis:7.4-alpine',
      ).start();
      started.push(container);
      redis = { url: container.getConnectionUrl(), version: '', source: 'testcontainers' };
    }
    return { kafka, redis, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

async function startLocally(
  need: { kafka: boolean; redis: boolean },
  infraDir: string,
  log: Log,
): Promise<{ kafka?: KafkaHandle; redis?: RedisHandle; stop: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'gatehouse-test-infra-'));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops) await s().catch(() => {});
    await rm(base, { recursive: true, force: true });
  };
  try {
    let kafka: KafkaHandle | undefined;
    let redis: RedisHandle | undefined;
    const starting: Promise<void>[] = [];
    if (need.redis) {
      const dir = join(base, 'redis');
      starting.push(
        script(infraDir, 'redis.sh', ['start', '--dir', dir]).then((out) => {
          stops.push(() => script(infraDir, 'redis.sh', ['stop', '--dir', dir]).then(() => {}));
          redis = { url: out.REDIS_URL!, version: out.REDIS_VERSION ?? '', source: 'infra/local' };
        }),
      );
    }
    if (need.kafka) {
      const dir = join(base, 'kafka');
      log('testkit: starting Kafka from infra/local (first run resolves its jars with Maven)');
      starting.push(
        script(infraDir, 'kafka.sh', ['start', '--dir', dir]).then((out) => {
          stops.push(() => script(infraDir, 'kafka.sh', ['stop', '--dir', dir]).then(() => {}));
          kafka = {
            brokers: [out.KAFKA_BROKERS!],
            version: out.KAFKA_VERSION!,
            source: 'infra/local',
            localDir: dir,
          };
        }),
      );
    }
    const results = await Promise.allSettled(starting);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { kafka, redis, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs an infra/local script and returns the KEY=value lines it printed. */
export async function script(
  infraDir: string,
  name: string,
  args: string[],
): Promise<Record<string, string>> {
  const stdout = await scriptOutput(infraDir, name, args);
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** Runs an infra/local script and returns what it printed on stdout. */
export async function scriptOutput(
  infraDir: string,
  name: string,
  args: string[],
): Promise<string> {
  try {
    const { stdout } = await run('bash', [join(infraDir, name), ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `${name} ${args[0]} failed${stderr ? `: ${stderr.split('\n').slice(-3).join(' / ')}` : `: ${String(error)}`}`,
    );
  }
}

/** Stops the infra/local broker as a crash would (SIGKILL) and starts it again on its data. */
/** Kills the broker the testkit started (as a crash would); `startLocalKafka` brings it back. */
export async function stopLocalKafka(localDir: string): Promise<void> {
  await script(defaultInfraDir, 'kafka.sh', ['stop', '--dir', localDir, '--kill']);
}

/** Starts the broker of `localDir` again, on its port, with its data. */
export async function startLocalKafka(localDir: string): Promise<void> {
  await script(defaultInfraDir, 'kafka.sh', ['start', '--dir', localDir]);
}

export async function restartLocalKafka(localDir: string): Promise<void> {
  await script(defaultInfraDir, 'kafka.sh', ['stop', '--dir', localDir, '--kill']);
  await script(defaultInfraDir, 'kafka.sh', ['start', '--dir', localDir]);
}

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    client.disconnect();
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
