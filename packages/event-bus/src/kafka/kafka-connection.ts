// How a service reaches Kafka: the brokers and, where the cluster asks for them, TLS and SASL
// credentials, read from the environment and checked at start (a missing password or an unreadable
// CA file stops the service with the variable's name, not a broker's late refusal); and the
// replication its topics must have, which `ensureTopics` creates and then holds the cluster to.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import type { SASLOptions } from 'kafkajs';
import { defaultMaxPublishBytes } from '../port.js';

export interface KafkaConnection {
  /** GATEHOUSE_KAFKA_BROKERS (required): `host:port[,host:port...]`. */
  brokers: string[];
  /**
   * GATEHOUSE_KAFKA_SSL (`true`/`false`, default false) and GATEHOUSE_KAFKA_SSL_CA (a PEM file of
   * the CA the brokers' certificates come from; setting it turns TLS on). Absent: plaintext.
   */
  ssl?: ConnectionOptions;
  /**
   * GATEHOUSE_KAFKA_SASL_MECHANISM (`plain`, `scram-sha-256` or `scram-sha-512`; unset: none) with
   * GATEHOUSE_KAFKA_SASL_USERNAME and GATEHOUSE_KAFKA_SASL_PASSWORD (both required with it).
   */
  sasl?: SASLOptions;
  /**
   * GATEHOUSE_KAFKA_PARTITIONS (1..1000, default 6): partitions of a topic created at start. The
   * partition count of a topic that exists is never raised (that would move tenants' keys to other
   * partitions and break their order); fewer than this is reported, not refused.
   */
  defaultPartitions: number;
  /**
   * GATEHOUSE_KAFKA_REPLICATION_FACTOR (1..16, default 3, SPEC section 9): copies of each event.
   * A cluster with fewer brokers, or a topic with fewer replicas, stops the service at start.
   * Single-broker setups (infra/local without --brokers, docker-compose) set it to 1.
   */
  replicationFactor: number;
  /**
   * GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS (1..replication factor, default 2; 1 with a replication
   * factor of 1): copies that must hold
   * an event before it is acknowledged (acks=all), so losing one broker loses no acknowledged event
   * and does not stop publishing. A topic set lower stops the service at start.
   */
  minInsyncReplicas: number;
  /**
   * GATEHOUSE_KAFKA_LINGER_MS (0..5, default 1): under load, how long a produce request that is not
   * full waits for more publishes to join it (see KafkaEventBusOptions.lingerMs). Fewer, bigger
   * requests cost the broker less per event; 0 sends each request as soon as the one before is
   * answered.
   */
  lingerMs: number;
  /** GATEHOUSE_KAFKA_MAX_BATCH_EVENTS (1..10,000, default 1,000): most events in one request. */
  maxBatchEvents: number;
  /**
   * GATEHOUSE_KAFKA_MAX_BATCH_BYTES (1,024..16,777,216, default 1,000,000): most bytes of events in
   * one request, and so in one publish (a larger one is refused before it is sent). Keep it below
   * the brokers' message.max.bytes and the topics' max.message.bytes (1,048,588 by default): a
   * partition's batch above those is refused by the broker.
   */
  maxBatchBytes: number;
}

const mechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export function readKafkaConnection(env: Environment): KafkaConnection {
  const brokers = setting.list(env, 'GATEHOUSE_KAFKA_BROKERS');
  const connection: KafkaConnection = {
    brokers,
    ...readTopicReplication(env),
    ...readBatching(env),
  };

  const sslFlag = setting.optionalString(env, 'GATEHOUSE_KAFKA_SSL');
  if (sslFlag !== undefined && sslFlag !== 'true' && sslFlag !== 'false')
    throw new ConfigError(
      'GATEHOUSE_KAFKA_SSL',
      `must be true or false, not ${JSON.stringify(sslFlag)}`,
    );
  const caFile = setting.optionalString(env, 'GATEHOUSE_KAFKA_SSL_CA');
  if (caFile && sslFlag === 'false')
    throw new ConfigError('GATEHOUSE_KAFKA_SSL', 'is false, but GATEHOUSE_KAFKA_SSL_CA is set');
  if (caFile) connection.ssl = { ca: [readCa('GATEHOUSE_KAFKA_SSL_CA', caFile)] };
  else if (sslFlag === 'true') connection.ssl = {}; // the system's CAs

  const mechanism = setting.optionalString(env, 'GATEHOUSE_KAFKA_SASL_MECHANISM')?.toLowerCase();
  const username = setting.optionalString(env, 'GATEHOUSE_KAFKA_SASL_USERNAME');
  const password = env.GATEHOUSE_KAFKA_SASL_PASSWORD; // a password may begin or end with spaces
  if (mechanism === undefined) {
    if (username !== undefined || password)
      throw new ConfigError(
        'GATEHOUSE_KAFKA_SASL_MECHANISM',
        `is required with GATEHOUSE_KAFKA_SASL_USERNAME/_PASSWORD (one of ${mechanisms.join(', ')})`,
      );
    return connection;
  }
  if (!(mechanisms as readonly string[]).includes(mechanism))
    throw new ConfigError(
      'GATEHOUSE_KAFKA_SASL_MECHANISM',
      `must be one of ${mechanisms.join(', ')}, not ${JSON.stringify(mechanism)}`,
    );
  if (username === undefined)
    throw new ConfigError('GATEHOUSE_KAFKA_SASL_USERNAME', `is required with SASL ${mechanism}`);
  if (!password)
    throw new ConfigError('GATEHOUSE_KAFKA_SASL_PASSWORD', `is required with SASL ${mechanism}`);
  connection.sasl = { mechanism, username, password } as SASLOptions;
  return connection;
}

function readTopicReplication(
  env: Environment,
): Pick<KafkaConnection, 'defaultPartitions' | 'replicationFactor' | 'minInsyncReplicas'> {
  const defaultPartitions = setting.integer(env, 'GATEHOUSE_KAFKA_PARTITIONS', {
    default: 6,
    min: 1,
    max: 1000,
  });
  const replicationFactor = setting.integer(env, 'GATEHOUSE_KAFKA_REPLICATION_FACTOR', {
    default: 3,
    min: 1,
    max: 16,
  });
  const minInsyncReplicas = setting.integer(env, 'GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS', {
    default: Math.min(2, replicationFactor),
    min: 1,
    max: 16,
  });
  // The broker would take such a topic, then refuse every acks=all write to it.
  if (minInsyncReplicas > replicationFactor)
    throw new ConfigError(
      'GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS',
      `is ${minInsyncReplicas}, above GATEHOUSE_KAFKA_REPLICATION_FACTOR (${replicationFactor}): no write could ever be acknowledged`,
    );
  return { defaultPartitions, replicationFactor, minInsyncReplicas };
}

function readBatching(
  env: Environment,
): Pick<KafkaConnection, 'lingerMs' | 'maxBatchEvents' | 'maxBatchBytes'> {
  return {
    // Beyond a few ms, lingering costs latency without making requests any bigger at the rates a
    // token service reaches.
    lingerMs: setting.integer(env, 'GATEHOUSE_KAFKA_LINGER_MS', { default: 1, min: 0, max: 5 }),
    maxBatchEvents: setting.integer(env, 'GATEHOUSE_KAFKA_MAX_BATCH_EVENTS', {
      default: 1_000,
      min: 1,
      max: 10_000,
    }),
    maxBatchBytes: setting.integer(env, 'GATEHOUSE_KAFKA_MAX_BATCH_BYTES', {
      default: defaultMaxPublishBytes,
      min: 1_024,
      max: 16 * 1024 * 1024,
    }),
  };
}

function readCa(variable: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      variable,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(variable, `${file} holds no PEM certificate`);
  return pem;
}
