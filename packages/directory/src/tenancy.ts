// Where a tenant lives (SPEC section 2): path mode `{publicUrl}/{tenant}`, host mode
// `https://{tenant}.{domain}`. The org authorization server's issuer is this base URL.
import { type Environment, setting } from '@gatehouse/config';

export type TenancyConfig =
  | { mode: 'path'; publicUrl: URL }
  | { mode: 'host'; publicUrl: URL; domain: string };

export function orgBaseUrl(config: TenancyConfig, tenant: string): string {
  if (config.mode === 'host') return `https://${tenant}.${config.domain}`;
  return `${config.publicUrl.origin}${config.publicUrl.pathname.replace(/\/+$/, '')}/${tenant}`;
}

/** GATEHOUSE_PUBLIC_URL (default http://localhost:9000), GATEHOUSE_TENANT_MODE (path | host, default
 * path) and GATEHOUSE_TENANT_DOMAIN (required in host mode): where tenants live. */
export function readTenancyConfig(env: Environment): TenancyConfig {
  const publicUrl = setting.url(env, 'GATEHOUSE_PUBLIC_URL', { default: 'http://localhost:9000' });
  const mode = setting.oneOf(env, 'GATEHOUSE_TENANT_MODE', ['path', 'host'], 'path');
  if (mode === 'path') return { mode, publicUrl };
  return {
    mode,
    publicUrl,
    domain: setting.string(env, 'GATEHOUSE_TENANT_DOMAIN', {
      pattern:
        /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
      hint: 'a DNS name such as example.com, required when GATEHOUSE_TENANT_MODE=host',
    }),
  };
}

/**
 * The issuer of an authorization server: the org base for the org server (`serverId` undefined), else
 * `{org}/oauth2/{serverId}`. Discovery documents and tokens both take it from here, so they match
 * byte for byte.
 */
export function issuerOf(config: TenancyConfig, tenant: string, serverId?: string): string {
  const org = orgBaseUrl(config, tenant);
  return serverId === undefined ? org : `${org}/oauth2/${serverId}`;
}

/**
 * Where a server's OAuth endpoints live, given its issuer: `{org}/oauth2/v1` for the org server,
 * `{issuer}/v1` for a custom one (`/token`, `/keys`, `/par`, ... follow).
 */
export function endpointsBase(issuer: string, custom: boolean): string {
  return custom ? `${issuer}/v1` : `${issuer}/oauth2/v1`;
}
