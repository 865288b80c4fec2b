// The projector's settings, from environment variables:
//   GATEHOUSE_KAFKA_BROKERS (required) and Kafka's TLS and SASL settings (see readKafkaConnection),
//   GATEHOUSE_REDIS_URL (required) and Redis's ACL and TLS settings (see readRedisConnection),
//   GATEHOUSE_PUBLISH_TIMEOUT_MS (2000): the projector appends copies to the derived topics
//   (gatehouse.client-lifecycle, ...), GATEHOUSE_GRANTS_RETENTION_DAYS (see topicSpecs),
//   GATEHOUSE_PROJECTOR_PORT (9015): HTTP for /healthz, /readyz and /metrics only (internal),
//   GATEHOUSE_BIND_ADDRESS (127.0.0.1): the address it listens on.
import { type Environment, setting } from '@gatehouse/config';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { readBindAddress } from '@gatehouse/internal-plane';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';

export interface ProjectorConfig {
  kafka: KafkaConnection;
  redis: RedisConnection;
  topics: ReturnType<typeof topicSpecs>;
  publishTimeoutMs: number;
  /** GATEHOUSE_PROJECTOR_PORT, default 9015: probes and metrics (no public path). */
  port: number;
  /** GATEHOUSE_BIND_ADDRESS, default 127.0.0.1. */
  bindAddress: string;
}

export function readProjectorConfig(env: Environment): ProjectorConfig {
  return {
    kafka: readKafkaConnection(env),
    topics: topicSpecs(env),
    publishTimeoutMs: setting.integer(env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
      default: 2000,
      min: 100,
      max: 60_000,
    }),
    redis: readRedisConnection(env),
    port: setting.integer(env, 'GATEHOUSE_PROJECTOR_PORT', { default: 9015, min: 0, max: 65535 }),
    bindAddress: readBindAddress(env),
  };
}
