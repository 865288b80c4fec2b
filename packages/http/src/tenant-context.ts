// Which tenant a request is for, and whether its API token belongs to that tenant.
// Path mode: `/{tenant}/api/v1/...` (the prefix is taken off the path); host mode: `{tenant}.{domain}`.
// A tenant's API token (SSWS) gets nothing of another tenant, and nothing once the tenant is inactive.
import { createHash } from 'node:crypto';
import { keys, type TenancyConfig, tenantIdPattern } from '@gatehouse/directory';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { Middleware } from 'koa';
import { OktaApiError } from './okta-errors.js';

export interface TenantState {
  tenant?: string;
}

export function resolveTenant(tenancy: TenancyConfig): Middleware {
  return async (ctx, next) => {
    if (tenancy.mode === 'host') {
      const host = ctx.hostname.toLowerCase();
      const suffix = `.${tenancy.domain}`;
      const tenant = host.endsWith(suffix) ? host.slice(0, -suffix.length) : '';
      if (tenantIdPattern.test(tenant)) ctx.state.tenant = tenant;
    } else if (ctx.url.startsWith('/')) {
      // The usual origin-form target: the prefix comes off the URL as it is (koa's path setter
      // would parse and format the whole URL again).
      const match = /^\/([a-z0-9-]{2,40})\//.exec(ctx.url);
      if (match && match[1] !== 'api') {
        ctx.state.tenant = match[1];
        ctx.url = ctx.url.slice(match[1]!.length + 1);
      }
    } else {
      // An absolute-form target (RFC 9112 section 3.2.2): koa parses it.
      const match = /^\/([a-z0-9-]{2,40})(\/.*)$/.exec(ctx.path);
      if (match && match[1] !== 'api') {
        ctx.state.tenant = match[1];
        ctx.path = match[2]!;
      }
    }
    await next();
  };
}

export function requireTenantToken(store: ProjectionStore): Middleware {
  return async (ctx, next) => {
    const tenant = ctx.state.tenant as string | undefined;
    const match = /^SSWS ([\x21-\x7e]{1,512})$/.exec(ctx.get('authorization'));
    if (!tenant || !match) throw OktaApiError.invalidToken();
    const digest = createHash('sha256').update(match[1]!).digest('hex');
    const [owner, status] = await store.read([
      { op: 'get', key: keys.tenantByToken(digest) },
      { op: 'hget', key: keys.tenant(tenant), field: 'status' },
    ]);
    // The digest is looked up, not compared: nothing here depends on how much of it matches.
    if (owner !== tenant || status !== 'ACTIVE') throw OktaApiError.invalidToken();
    // Which token it was (as its digest), for what counts per token (the management API's budget).
    ctx.state.apiTokenSha256 = digest;
    await next();
  };
}
