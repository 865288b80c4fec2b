// The userinfo service's settings, each from one environment variable, checked at start.
import { type Environment, setting } from '@gatehouse/config';
import { readTenancyConfig, type TenancyConfig } from '@gatehouse/directory';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { readBindAddress } from '@gatehouse/internal-plane';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, readKekSetting } from '@gatehouse/signing-keys';

export interface UserinfoConfig {
  /** GATEHOUSE_USERINFO_PORT, default 9012: /userinfo. */
  port: number;
  /** GATEHOUSE_PUBLIC_URL, GATEHOUSE_TENANT_MODE, GATEHOUSE_TENANT_DOMAIN: where tenants live. */
  tenancy: TenancyConfig;
  /** GATEHOUSE_KEK (required): the key ring reads the servers' keys. */
  keks: KeyEncryptionKeys;
  /** GATEHOUSE_KAFKA_BROKERS (required), and TLS and SASL: see `readKafkaConnection`. */
  kafka: KafkaConnection;
  /** GATEHOUSE_PUBLISH_TIMEOUT_MS: how long an append waits for Kafka before failing. Default 2000. */
  publishTimeoutMs: number;
  /** The topics and how long each must keep its events (GATEHOUSE_GRANTS_RETENTION_DAYS). */
  topics: ReturnType<typeof topicSpecs>;
  /** GATEHOUSE_REDIS_URL (required), and ACL and TLS: see `readRedisConnection`. */
  redis: RedisConnection;
  /** GATEHOUSE_BIND_ADDRESS, default 127.0.0.1: the address its ports listen on. */
  bindAddress: string;
  /** GATEHOUSE_MAX_PROJECTION_LAG_MS, default 1000: beyond it token checks fail closed (503). */
  maxProjectionLagMs: number;
}

export function readUserinfoConfig(env: Environment): UserinfoConfig {
  const keks = readKekSetting(env);
  return {
    port: setting.integer(env, 'GATEHOUSE_USERINFO_PORT', { default: 9012, min: 0, max: 65535 }),
    tenancy: readTenancyConfig(env),
    keks,
    kafka: readKafkaConnection(env),
    publishTimeoutMs: setting.integer(env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
      default: 2000,
      min: 100,
      max: 60_000,
    }),
    topics: topicSpecs(env),
    redis: readRedisConnection(env),
    bindAddress: readBindAddress(env),
    maxProjectionLagMs: setting.integer(env, 'GATEHOUSE_MAX_PROJECTION_LAG_MS', {
      default: 1000,
      min: 100,
      max: 60_000,
    }),
  };
}
