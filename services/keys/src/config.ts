// The keys service's settings, each from one environment variable, checked at start.
import { availableParallelism } from 'node:os';
import { type Environment, setting } from '@gatehouse/config';
import { readTenancyConfig, type TenancyConfig } from '@gatehouse/directory';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { type GrpcTls, readBindAddress, readGrpcTls } from '@gatehouse/internal-plane';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, readKekSetting } from '@gatehouse/signing-keys';

/** GATEHOUSE_KEY_POOL_SIZE and GATEHOUSE_KEY_POOL_THREADS, with this default size. */
export function readKeyPoolSettings(env: Environment, defaultSize: number) {
  return {
    size: setting.integer(env, 'GATEHOUSE_KEY_POOL_SIZE', {
      default: defaultSize,
      min: 0,
      max: 100_000,
    }),
    threads: setting.integer(env, 'GATEHOUSE_KEY_POOL_THREADS', {
      default: Math.max(1, availableParallelism() - 1),
      min: 1,
      max: 256,
    }),
  };
}

export interface KeysConfig {
  /** GATEHOUSE_KEYS_PORT, default 9013: HTTP (JWKS, discovery, key management). */
  port: number;
  /** GATEHOUSE_KEYS_GRPC_PORT, default 9113: gRPC KeyService. */
  grpcPort: number;
  /** GATEHOUSE_PUBLIC_URL, GATEHOUSE_TENANT_MODE, GATEHOUSE_TENANT_DOMAIN: where tenants live. */
  tenancy: TenancyConfig;
  /** GATEHOUSE_KEK (required): `id:base64key[,id:base64key...]`, 32-byte keys; the first seals. */
  keks: KeyEncryptionKeys;
  /** GATEHOUSE_KEY_ROTATION_SECONDS, default 7776000 (90 days), at least 2. */
  rotationPeriodMs: number;
  /** GATEHOUSE_MAX_TOKEN_LIFETIME_SECONDS, default 87000 (24 h 10 min): how long a retired key stays. */
  maxTokenLifetimeMs: number;
  /** GATEHOUSE_JWKS_MAX_AGE_SECONDS, default 3600: cache ceiling of JWKS and discovery. */
  jwksMaxAgeSeconds: number;
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
  /**
   * GATEHOUSE_GRPC_TLS_CA, GATEHOUSE_GRPC_TLS_CERT, GATEHOUSE_GRPC_TLS_KEY (required): PEM files of
   * the CA and of this service's certificate and key, for gRPC over mutual TLS.
   */
  grpcTls: GrpcTls;
  /** GATEHOUSE_READ_YOUR_WRITES_MS, default 5000. */
  readYourWritesMs: number;
  /**
   * GATEHOUSE_KEY_POOL_SIZE (default 200; 0: no pool) keys generated ahead of need, refilled by
   * GATEHOUSE_KEY_POOL_THREADS worker threads (default: the cores but one, at least one).
   */
  keyPool: { size: number; threads: number };
}

export function readKeysConfig(env: Environment): KeysConfig {
  const keks = readKekSetting(env);
  return {
    port: setting.integer(env, 'GATEHOUSE_KEYS_PORT', { default: 9013, min: 0, max: 65535 }),
    grpcPort: setting.integer(env, 'GATEHOUSE_KEYS_GRPC_PORT', {
      default: 9113,
      min: 0,
      max: 65535,
    }),
    tenancy: readTenancyConfig(env),
    keks,
    rotationPeriodMs:
      setting.integer(env, 'GATEHOUSE_KEY_ROTATION_SECONDS', {
        default: 90 * 24 * 3600,
        min: 2,
        max: 10 * 365 * 24 * 3600,
      }) * 1000,
    maxTokenLifetimeMs:
      setting.integer(env, 'GATEHOUSE_MAX_TOKEN_LIFETIME_SECONDS', {
        default: 24 * 3600 + 600,
        min: 1,
        max: 400 * 24 * 3600,
      }) * 1000,
    jwksMaxAgeSeconds: setting.integer(env, 'GATEHOUSE_JWKS_MAX_AGE_SECONDS', {
      default: 3600,
      min: 0,
      max: 86_400,
    }),
    kafka: readKafkaConnection(env),
    publishTimeoutMs: setting.integer(env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
      default: 2000,
      min: 100,
      max: 60_000,
    }),
    topics: topicSpecs(env),
    redis: readRedisConnection(env),
    bindAddress: readBindAddress(env),
    grpcTls: readGrpcTls(env),
    readYourWritesMs: setting.integer(env, 'GATEHOUSE_READ_YOUR_WRITES_MS', {
      default: 5000,
      min: 100,
      max: 60_000,
    }),
    keyPool: readKeyPoolSettings(env, 200),
  };
}
