// The projector's settings, from environment variables:
//   GATEHOUSE_KAFKA_BROKERS (required) and Kafka's TLS and SASL settings (see readKafkaConnection),
//   GATEHOUSE_REDIS_URL (required) and Redis's ACL and TLS settings (see readRedisConnection),
//   GATEHOUSE_PUBLISH_TIMEOUT_MS (2000): the projector appends copies to the derived topics
//   (gatehouse.client-lifecycle, ...), GATEHOUSE_GRANTS_RETENTION_DAYS (see topicSpecs),
//   GATEHOUSE_PROJECTOR_PORT (unset: none): where /healthz and /readyz answer, on
//   GATEHOUSE_BIND_ADDRESS (default 127.0.0.1).
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
  /** GATEHOUSE_PROJECTOR_PORT: the probes' port; unset, the projector serves no HTTP. */
  probePort: number | undefined;
  /** GATEHOUSE_BIND_ADDRESS, default 127.0.0.1: the address the probes' port listens on. */
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
    probePort:
      setting.optionalString(env, 'GATEHOUSE_PROJECTOR_PORT') === undefined
        ? undefined
        : setting.integer(env, 'GATEHOUSE_PROJECTOR_PORT', { default: 0, min: 0, max: 65535 }),
    bindAddress: readBindAddress(env),
  };
}
