// Finds or starts the Kafka broker and Redis server that integration tests use, in this order:
//   1. GATEHOUSE_KAFKA_BROKERS / GATEHOUSE_REDIS_URL, when set (each on its own);
//   2. testcontainers, when a container runtime answers;
//   3. infra/local: Kafka from Maven Central on the JDK and Debian's redis-server, on 127.0.0.1.
// GATEHOUSE_TEST_INFRA=containers or =local makes the choice explicit (CI runs the suites both
// ways); then nothing else is tried. When none works it fails with one message that says what was
// tried and why each failed. Images: GATEHOUSE_TEST_KAFKA_IMAGE (default apache/kafka:4.4.0, or an
// image with its interface, as infra/containers/images.sh builds) and GATEHOUSE_TEST_REDIS_IMAGE
// (default redis:7.4-alpine).
// `kafkaBrokers: N` (N > 1) asks for a cluster of N brokers instead (the chaos suite: replication
// 3, min.insync.replicas 2): GATEHOUSE_KAFKA_CLUSTER_DIR, a cluster `infra/local/kafka.sh start
// --brokers N --dir DIR` started (it is reused, and its nodes can be stopped), or else a new one:
// N containers on a network of their own when a container runtime answers, else from infra/local. GATEHOUSE_KAFKA_BROKERS is not taken for a cluster: nothing says how many brokers
// stand behind it, or lets a test stop one.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
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
  /** Present when the broker is a container the testkit started: tests may stop and start it. */
  containerId?: string;
  /** Brokers in the cluster, when the testkit knows (1 for a single broker it started). */
  nodes?: number;
  /** A cluster of containers the testkit started: node i is `containerIds[i - 1]`. */
  containerIds?: string[];
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
  /**
   * Kafka brokers wanted. Default 1. More: a KRaft cluster of that many nodes, as containers or
   * from infra/local (or GATEHOUSE_KAFKA_CLUSTER_DIR).
   */
  kafkaBrokers?: number;
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
    const choice = env.GATEHOUSE_TEST_INFRA?.trim() || undefined;
    if (choice !== undefined && choice !== 'containers' && choice !== 'local')
      throw new Error(`GATEHOUSE_TEST_INFRA: ${JSON.stringify(choice)} is not containers or local`);
    const brokers = options.kafkaBrokers ?? 1;
    const cluster = brokers > 1;
    const fromEnv = choice
      ? { kafka: undefined, redis: undefined }
      : {
          kafka: cluster ? undefined : env.GATEHOUSE_KAFKA_BROKERS,
          redis: env.GATEHOUSE_REDIS_URL,
        };
    if (choice) attempts.push(`GATEHOUSE_TEST_INFRA=${choice}: only that is tried`);
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
    const clusterDir = cluster ? env.GATEHOUSE_KAFKA_CLUSTER_DIR?.trim() || undefined : undefined;
    if (clusterDir) {
      // Started already (or restarted: its nodes keep their data and ports); not ours to stop.
      const out = await script(infraDir, 'kafka.sh', ['start', '--dir', clusterDir]);
      if (Number(out.KAFKA_NODES) !== brokers)
        throw new Error(
          `GATEHOUSE_KAFKA_CLUSTER_DIR: ${clusterDir} holds ${out.KAFKA_NODES} node(s), not ${brokers}`,
        );
      kafka = clusterHandle(out, clusterDir);
    }
    if (cluster && !clusterDir)
      attempts.push(`a cluster of ${brokers}: GATEHOUSE_KAFKA_CLUSTER_DIR not set`);
    else if (!cluster && !choice && !fromEnv.kafka)
      attempts.push('GATEHOUSE_KAFKA_BROKERS: not set');
    if (!choice && !fromEnv.redis) attempts.push('GATEHOUSE_REDIS_URL: not set');

    if (choice === 'local') {
      // infra/local only.
    } else if ((!kafka || !redis) && options.containers === false) {
      attempts.push('testcontainers: not tried (disabled)');
    } else if (!kafka || !redis) {
      const containers = await startWithContainers(
        { kafka: !kafka, redis: !redis },
        log,
        brokers,
      ).catch((error: unknown) => {
        attempts.push(`testcontainers: ${firstLine(error)}`);
        return undefined;
      });
      if (containers) {
        stops.push(containers.stop);
        kafka ??= containers.kafka;
        redis ??= containers.redis;
      }
    }
    if ((!kafka || !redis) && choice !== 'containers') {
      const local = await startLocally(
        { kafka: !kafka, redis: !redis },
        infraDir,
        log,
        brokers,
      ).catch((error: unknown) => {
        attempts.push(`infra/local: ${firstLine(error)}`);
        return undefined;
      });
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
  brokers: number,
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
    if (need.kafka && brokers > 1) {
      const cluster = await startClusterContainers(brokers, log);
      started.push(cluster);
      kafka = cluster.kafka;
    } else if (need.kafka) {
      const { GenericContainer, Wait } = await import('testcontainers');
      const image = process.env.GATEHOUSE_TEST_KAFKA_IMAGE || 'apache/kafka:4.4.0';
      // apache/kafka's interface (KAFKA_* to server.properties). A fixed host port, so the broker
      // can advertise it, and it stays the same when a test stops and starts the container.
      const port = await freePort();
      const container = await new GenericContainer(image)
        .withExposedPorts({ container: 9092, host: port })
        .withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          // As infra/local's broker: the suites' assumptions hold on both.
          KAFKA_NUM_PARTITIONS: '3',
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(120_000)
        .start();
      started.push(container);
      kafka = {
        brokers: [`127.0.0.1:${port}`],
        version: `image ${image}`,
        source: 'testcontainers',
        containerId: container.getId(),
      };
    }
    if (need.redis) {
      const { GenericContainer, Wait } = await import('testcontainers');
      const image = process.env.GATEHOUSE_TEST_REDIS_IMAGE || 'redis:7.4-alpine';
      const container = await new GenericContainer(image)
        .withExposedPorts(6379)
        .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
        .start();
      started.push(container);
      redis = {
        url: `redis://127.0.0.1:${container.getMappedPort(6379)}`,
        version: '',
        source: 'testcontainers',
      };
    }
    return { kafka, redis, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/**
 * N combined KRaft nodes as containers on a network of their own: each advertises its host port on
 * 127.0.0.1 to clients, and its network alias to the other nodes (replication and the controller
 * quorum stay on the network). Started together: none says "started" before a quorum stands.
 */
async function startClusterContainers(
  brokers: number,
  log: Log,
): Promise<{ kafka: KafkaHandle; stop: () => Promise<void> }> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const image = process.env.GATEHOUSE_TEST_KAFKA_IMAGE || 'apache/kafka:4.4.0';
  log(`testkit: starting a ${brokers}-broker Kafka cluster of ${image} containers`);
  const network = await new Network().start();
  const ids = Array.from({ length: brokers }, (_, i) => i + 1);
  const ports: number[] = [];
  while (ports.length < brokers) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const voters = ids.map((i) => `${i}@kafka-${i}:9093`).join(',');
  const rf = String(Math.min(3, brokers));
  const isr = String(Math.min(2, brokers));
  // A cluster id is 16 bytes in URL-safe base64, the same on every node.
  const clusterId = randomBytes(16).toString('base64url');
  const settled = await Promise.allSettled(
    ids.map((i) =>
      new GenericContainer(image)
        .withNetwork(network)
        .withNetworkAliases(`kafka-${i}`)
        .withExposedPorts({ container: 9092, host: ports[i - 1]! })
        .withEnvironment({
          CLUSTER_ID: clusterId,
          KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
          KAFKA_NODE_ID: String(i),
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,INTERNAL://:19092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${ports[i - 1]},INTERNAL://kafka-${i}:19092`,
          KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:
            'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
          // As infra/local's cluster (kafka.sh --brokers N).
          KAFKA_NUM_PARTITIONS: '3',
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: rf,
          KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: rf,
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: isr,
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: rf,
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: isr,
          KAFKA_DEFAULT_REPLICATION_FACTOR: brokers >= 3 ? '3' : String(brokers),
          KAFKA_MIN_INSYNC_REPLICAS: brokers >= 3 ? '2' : '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_BROKER_SESSION_TIMEOUT_MS: '3000',
          KAFKA_BROKER_HEARTBEAT_INTERVAL_MS: '500',
        })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(180_000)
        .start(),
    ),
  );
  const containers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    for (const container of containers) await container.stop().catch(() => {});
    await network.stop().catch(() => {});
  };
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return {
    kafka: {
      brokers: ports.map((port) => `127.0.0.1:${port}`),
      version: `image ${image}`,
      source: 'testcontainers',
      nodes: brokers,
      containerIds: containers.map((c) => c.getId()),
    },
    stop,
  };
}

async function startLocally(
  need: { kafka: boolean; redis: boolean },
  infraDir: string,
  log: Log,
  brokers: number,
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
        script(infraDir, 'kafka.sh', ['start', '--dir', dir, '--brokers', String(brokers)]).then(
          (out) => {
            stops.push(() => script(infraDir, 'kafka.sh', ['stop', '--dir', dir]).then(() => {}));
            kafka = clusterHandle(out, dir);
          },
        ),
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

function clusterHandle(out: Record<string, string>, dir: string): KafkaHandle {
  return {
    brokers: out.KAFKA_BROKERS!.split(','),
    version: out.KAFKA_VERSION!,
    source: 'infra/local',
    localDir: dir,
    nodes: Number(out.KAFKA_NODES ?? '1'),
  };
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

/** Whether tests may kill and start the broker: one the testkit started, locally or as a container. */
export function brokerControllable(kafka: KafkaHandle): boolean {
  return kafka.localDir !== undefined || kafka.containerId !== undefined;
}

async function brokerContainer(containerId: string) {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  return client.container.getById(containerId);
}

/** Kills the broker the testkit started (as a crash would); `startKafka` brings it back. */
export async function stopKafka(kafka: KafkaHandle): Promise<void> {
  if (kafka.localDir)
    await script(defaultInfraDir, 'kafka.sh', ['stop', '--dir', kafka.localDir, '--kill']);
  else if (kafka.containerId) await (await brokerContainer(kafka.containerId)).kill();
  else throw new Error('the broker was not started by the testkit: it cannot be stopped');
}

/**
 * Stops node `node` (1..nodes) of a cluster the testkit knows the directory of: killed, as a crash
 * would, unless `kill` is false (a controlled shutdown, which moves its leaderships first).
 */
export async function stopKafkaNode(
  kafka: KafkaHandle,
  node: number,
  options: { kill?: boolean } = {},
): Promise<void> {
  const container = kafka.containerIds?.[node - 1];
  if (container) {
    const handle = await brokerContainer(container);
    await (options.kill === false ? handle.stop() : handle.kill());
    return;
  }
  if (!kafka.localDir || !kafka.nodes || kafka.nodes < 2)
    throw new Error('no cluster the testkit started: its nodes cannot be stopped one by one');
  const args = ['stop', '--dir', kafka.localDir, '--node', String(node)];
  await script(defaultInfraDir, 'kafka.sh', options.kill === false ? args : [...args, '--kill']);
}

/** Starts node `node` again with its data and ports; returns once it takes connections. */
export async function startKafkaNode(kafka: KafkaHandle, node: number): Promise<void> {
  const container = kafka.containerIds?.[node - 1];
  if (container) {
    await (await brokerContainer(container)).start();
    await answering(kafka.brokers[node - 1]!, 'the Kafka container');
    return;
  }
  if (!kafka.localDir || !kafka.nodes || kafka.nodes < 2)
    throw new Error('no cluster the testkit started: its nodes cannot be started one by one');
  await script(defaultInfraDir, 'kafka.sh', [
    'start',
    '--dir',
    kafka.localDir,
    '--node',
    String(node),
  ]);
}

/** The node id leading a partition now, as the cluster's metadata says. */
export async function kafkaPartitionLeader(
  kafka: KafkaHandle,
  topic: string,
  partition: number,
): Promise<number> {
  const out = await scriptOutput(defaultInfraDir, 'kafka.sh', [
    'leader',
    '--bootstrap',
    kafka.brokers.join(','),
    '--topic',
    topic,
    '--partition',
    String(partition),
  ]);
  return Number(out.trim());
}

async function answering(broker: string, what: string): Promise<void> {
  const [host, port] = broker.split(':');
  const deadline = Date.now() + 60_000;
  while (!(await answers(host!, Number(port)))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come back in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Starts the broker again, on its port, with its data; returns once it takes connections. */
export async function startKafka(kafka: KafkaHandle): Promise<void> {
  if (kafka.localDir) {
    await script(defaultInfraDir, 'kafka.sh', ['start', '--dir', kafka.localDir]);
    return;
  }
  if (!kafka.containerId)
    throw new Error('the broker was not started by the testkit: it cannot be started');
  await (await brokerContainer(kafka.containerId)).start();
  await answering(kafka.brokers[0]!, 'the Kafka container');
}

export async function restartKafka(kafka: KafkaHandle): Promise<void> {
  await stopKafka(kafka);
  await startKafka(kafka);
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function redisVersion(url: string): Promise<string> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 1 };
  // redis+sentinel://h:p,h:p/name (see readRedisConnection): the primary the Sentinels name.
  const sentinel = /^redis\+sentinel:\/\/([^/]+)\/(.+)$/.exec(url);
  const client = sentinel
    ? new Redis({
        ...options,
        name: sentinel[2]!,
        sentinels: sentinel[1]!.split(',').map((address) => {
          const [host, port] = address.split(':');
          return { host: host!, port: Number(port) };
        }),
      })
    : new Redis(url, options);
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
