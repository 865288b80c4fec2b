// The admin service's settings, each from one environment variable, checked at start.
import { createHash } from 'node:crypto';
import { type Environment, setting } from '@gatehouse/config';
import { readTenancyConfig, type TenancyConfig } from '@gatehouse/directory';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { readBindAddress } from '@gatehouse/internal-plane';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';
import { type RateLimitConfig, readRateLimitConfig } from '@gatehouse/rate-limits';
import { type KeyEncryptionKeys, readKekSetting } from '@gatehouse/signing-keys';

export interface AdminConfig {
  /** GATEHOUSE_ADMIN_PORT, default 9010: where the admin service listens. */
  port: number;
  /** GATEHOUSE_PUBLIC_URL, default http://localhost:9000, with GATEHOUSE_TENANT_MODE (path|host,
   * default path) and GATEHOUSE_TENANT_DOMAIN (required in host mode): where tenants live. */
  tenancy: TenancyConfig;
  /** SHA-256 of GATEHOUSE_ADMIN_TOKEN (required, at least 32 characters): the system API token. */
  adminTokenSha256: string;
  /**
   * GATEHOUSE_KEK (required): seals every new client secret, which client_secret_jwt verifies with
   * (the token service opens it; see the keys service for the format).
   */
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
  /** GATEHOUSE_RATE_LIMITS: the request budgets, per tenant (see @gatehouse/rate-limits). */
  rateLimits: RateLimitConfig;
  /** GATEHOUSE_READ_YOUR_WRITES_MS, default 5000: longest wait for the projector after a change. */
  readYourWritesMs: number;
}

export function readAdminConfig(env: Environment): AdminConfig {
  const tenancy = readTenancyConfig(env);
  const adminToken = setting.string(env, 'GATEHOUSE_ADMIN_TOKEN', {
    pattern: /^\S{32,}$/,
    hint: 'at least 32 characters, no spaces',
  });
  return {
    port: setting.integer(env, 'GATEHOUSE_ADMIN_PORT', { default: 9010, min: 0, max: 65535 }),
    tenancy,
    adminTokenSha256: createHash('sha256').update(adminToken).digest('hex'),
    keks: readKekSetting(env),
    kafka: readKafkaConnection(env),
    publishTimeoutMs: setting.integer(env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
      default: 2000,
      min: 100,
      max: 60_000,
    }),
    topics: topicSpecs(env),
    redis: readRedisConnection(env),
    bindAddress: readBindAddress(env),
    rateLimits: readRateLimitConfig(env),
    readYourWritesMs: setting.integer(env, 'GATEHOUSE_READ_YOUR_WRITES_MS', {
      default: 5000,
      min: 100,
      max: 60_000,
    }),
  };
}
