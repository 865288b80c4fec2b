// Where a tenant lives (SPEC section 2): path mode `{publicUrl}/{tenant}`, host mode
// `https://{tenant}.{domain}`. The org authorization server's issuer is this base URL.

export type TenancyConfig =
  | { mode: 'path'; publicUrl: URL }
  | { mode: 'host'; publicUrl: URL; domain: string };

export function orgBaseUrl(config: TenancyConfig, tenant: string): string {
  if (config.mode === 'host') return `https://${tenant}.${config.domain}`;
  return `${config.publicUrl.origin}${config.publicUrl.pathname.replace(/\/+$/, '')}/${tenant}`;
}
