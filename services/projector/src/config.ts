// The projector's settings, from environment variables:
//   GATEHOUSE_KAFKA_BROKERS (required) and Kafka's TLS and SASL settings (see readKafkaConnection),
//   GATEHOUSE_REDIS_URL (required) and Redis's ACL and TLS settings (see readRedisConnection),
//   GATEHOUSE_PUBLISH_TIMEOUT_MS (2000): the projector appends copies to the derived topics
//   (gatehouse.client-lifecycle, ...), GATEHOUSE_GRANTS_RETENTION_DAYS (see topicSpecs).
import { type Environment, setting } from '@gatehouse/config';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';

export interface ProjectorConfig {
  kafka: KafkaConnection;
  redis: RedisConnection;
  topics: ReturnType<typeof topicSpecs>;
  publishTimeoutMs: number;
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
  };
}
