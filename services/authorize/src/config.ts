// The authorize service's settings, each from one environment variable, checked at start.
import { type Environment, setting } from '@gatehouse/config';
import { readTenancyConfig, type TenancyConfig } from '@gatehouse/directory';
import { type KafkaConnection, readKafkaConnection } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { readTrustedProxies, type TrustedProxies } from '@gatehouse/http';
import {
  type GrpcTarget,
  type GrpcTls,
  readBindAddress,
  readGrpcTarget,
  readGrpcTls,
} from '@gatehouse/internal-plane';
import { type RedisConnection, readRedisConnection } from '@gatehouse/projection-store';
import { type RateLimitConfig, readRateLimitConfig } from '@gatehouse/rate-limits';
import { type KeyEncryptionKeys, readKekSetting } from '@gatehouse/signing-keys';

export interface AuthorizeConfig {
  /** GATEHOUSE_AUTHORIZE_PORT, default 9014: /authorize, /api/v1/authn, sign-in, consent, /logout. */
  port: number;
  /**
   * GATEHOUSE_TOKEN_GRPC_URL, default 127.0.0.1:9111: the token service's gRPC TokenService, as
   * `host:port` (every address the name resolves to: compose's and Kubernetes's replicas) or a
   * comma-separated list of `ip:port` (the stack's replicas); calls go round-robin over them.
   */
  tokenGrpc: GrpcTarget;
  /** GATEHOUSE_PUBLIC_URL, GATEHOUSE_TENANT_MODE, GATEHOUSE_TENANT_DOMAIN: where tenants live. */
  tenancy: TenancyConfig;
  /** GATEHOUSE_KEK (required): the key ring reads the servers' keys (for id_token_hint). */
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
  /**
   * GATEHOUSE_GRPC_TLS_CA, GATEHOUSE_GRPC_TLS_CERT, GATEHOUSE_GRPC_TLS_KEY (required): PEM files of
   * the CA and of this service's certificate and key, for gRPC over mutual TLS.
   */
  grpcTls: GrpcTls;
  /** GATEHOUSE_RATE_LIMITS: the sign-in budgets, per tenant (see @gatehouse/rate-limits). */
  rateLimits: RateLimitConfig;
  /** GATEHOUSE_TRUSTED_PROXIES: whose X-Forwarded-For names a request's source. Default none. */
  trustedProxies: TrustedProxies;
  /**
   * GATEHOUSE_JWKS_URI_HTTP_LOOPBACK, default false: whether a private_key_jwt client's jwks_uri may
   * be http on a loopback host (development and tests); https only otherwise.
   */
  jwksUriHttpLoopback: boolean;
}

export function readAuthorizeConfig(env: Environment): AuthorizeConfig {
  const keks = readKekSetting(env);
  const tokenGrpc = readGrpcTarget(env, 'GATEHOUSE_TOKEN_GRPC_URL', { default: '127.0.0.1:9111' });
  return {
    port: setting.integer(env, 'GATEHOUSE_AUTHORIZE_PORT', { default: 9014, min: 0, max: 65535 }),
    tokenGrpc,
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
    grpcTls: readGrpcTls(env),
    rateLimits: readRateLimitConfig(env),
    trustedProxies: readTrustedProxies(env),
    jwksUriHttpLoopback:
      setting.oneOf(env, 'GATEHOUSE_JWKS_URI_HTTP_LOOPBACK', ['true', 'false'], 'false') === 'true',
  };
}
