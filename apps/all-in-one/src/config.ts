// The all-in-one server's settings, from environment variables, checked at start. Unlike the
// distributed services it needs none: secrets it is not given are generated once and kept in the
// data directory.
import { resolve } from 'node:path';
import { type Environment, setting } from '@gatehouse/config';
import { readTenancyConfig, type TenancyConfig } from '@gatehouse/directory';
import { readTrustedProxies, type TrustedProxies } from '@gatehouse/http';
import { readKeyPoolSettings } from '@gatehouse/keys';
import { type RateLimitConfig, readRateLimitConfig } from '@gatehouse/rate-limits';

export interface AllInOneConfig {
  /** GATEHOUSE_PORT, default 9000: every public path on one port. */
  port: number;
  /** GATEHOUSE_HOST, default 127.0.0.1 (this machine only); 0.0.0.0 to serve the network. */
  host: string;
  /** GATEHOUSE_DATA_DIR, default ./data: the event log and the generated secrets. */
  dataDir: string;
  /** GATEHOUSE_PUBLIC_URL (default http://localhost:{port}), GATEHOUSE_TENANT_MODE, _DOMAIN. */
  tenancy: TenancyConfig;
  /** GATEHOUSE_ADMIN_TOKEN: the system API token; generated into the data directory if unset. */
  adminToken?: string;
  /** GATEHOUSE_KEK: seals signing keys; generated into the data directory if unset. */
  kek?: string;
  /** GATEHOUSE_KEY_ROTATION_SECONDS, default 90 days. */
  rotationPeriodMs: number;
  /**
   * GATEHOUSE_KEY_POOL_SIZE (default 20: the read models are in memory, so the pool is filled again
   * at every start) and GATEHOUSE_KEY_POOL_THREADS: signing keys generated ahead of need.
   */
  keyPool: { size: number; threads: number };
  /** GATEHOUSE_DEMO, default true: create the demo tenant on first start. */
  demo: boolean;
  /** GATEHOUSE_RATE_LIMITS: the request budgets, per tenant (see @gatehouse/rate-limits). */
  rateLimits: RateLimitConfig;
  /**
   * GATEHOUSE_TRUSTED_PROXIES: the proxies in front (addresses or CIDR ranges) whose
   * X-Forwarded-For names a request's source. Default none: the socket's address.
   */
  trustedProxies: TrustedProxies;
  /**
   * GATEHOUSE_JWKS_URI_HTTP_LOOPBACK, default false: whether a private_key_jwt client's jwks_uri may
   * be http on a loopback host (development and tests); https only otherwise.
   */
  jwksUriHttpLoopback: boolean;
  /**
   * GATEHOUSE_SHUTDOWN_GRACE_MS, default 10000: how long a SIGTERM may take (requests in flight
   * answered with `Connection: close`, idle connections closed) before the process exits anyway.
   */
  shutdownGraceMs: number;
  /**
   * GATEHOUSE_METRICS_PORT (default 9464, `0` any free port, `off` none) and GATEHOUSE_METRICS_HOST
   * (default 127.0.0.1): Prometheus /metrics on a port of its own, never on the public one.
   */
  metrics?: { port: number; host: string };
}

export function readAllInOneConfig(env: Environment, cwd = process.cwd()): AllInOneConfig {
  const port = setting.integer(env, 'GATEHOUSE_PORT', { default: 9000, min: 0, max: 65535 });
  const tenancy = readTenancyConfig({
    ...env,
    GATEHOUSE_PUBLIC_URL:
      setting.optionalString(env, 'GATEHOUSE_PUBLIC_URL') ?? `http://localhost:${port}`,
  });
  const adminToken = setting.optionalString(env, 'GATEHOUSE_ADMIN_TOKEN')
    ? setting.string(env, 'GATEHOUSE_ADMIN_TOKEN', {
        pattern: /^\S{32,}$/,
        hint: 'at least 32 characters, no spaces',
      })
    : undefined;
  return {
    port,
    host: setting.string(env, 'GATEHOUSE_HOST', {
      default: '127.0.0.1',
      pattern: /^[\w.:-]{1,253}$/,
      hint: 'an address or host name to listen on',
    }),
    dataDir: resolve(cwd, setting.optionalString(env, 'GATEHOUSE_DATA_DIR') ?? 'data'),
    tenancy,
    adminToken,
    kek: setting.optionalString(env, 'GATEHOUSE_KEK'),
    rotationPeriodMs:
      setting.integer(env, 'GATEHOUSE_KEY_ROTATION_SECONDS', {
        default: 90 * 24 * 3600,
        min: 2,
        max: 10 * 365 * 24 * 3600,
      }) * 1000,
    keyPool: readKeyPoolSettings(env, 20),
    demo: setting.oneOf(env, 'GATEHOUSE_DEMO', ['true', 'false'], 'true') === 'true',
    rateLimits: readRateLimitConfig(env),
    trustedProxies: readTrustedProxies(env),
    jwksUriHttpLoopback:
      setting.oneOf(env, 'GATEHOUSE_JWKS_URI_HTTP_LOOPBACK', ['true', 'false'], 'false') === 'true',
    shutdownGraceMs: setting.integer(env, 'GATEHOUSE_SHUTDOWN_GRACE_MS', {
      default: 10_000,
      min: 0,
      max: 600_000,
    }),
    metrics:
      setting.optionalString(env, 'GATEHOUSE_METRICS_PORT') === 'off'
        ? undefined
        : {
            port: setting.integer(env, 'GATEHOUSE_METRICS_PORT', {
              default: 9464,
              min: 0,
              max: 65535,
            }),
            host: setting.string(env, 'GATEHOUSE_METRICS_HOST', {
              default: '127.0.0.1',
              pattern: /^[\w.:-]{1,253}$/,
              hint: 'an address or host name to listen on',
            }),
          },
  };
}
