// What the authorize service's back-channel endpoints (/par, /device/authorize) share before their
// own work: a form body with each parameter once, an active tenant and authorization server; and,
// once the client has authenticated, its credentials taken out of the parameters and the scopes the
// server does not have refused (the rest of the policy needs the user, and is decided later).
import { openIdConnectScopes, orgServerScopes, scopesNotConfigured } from '@gatehouse/grants';
import { InvalidRequest, OAuthError, readBodyText } from '@gatehouse/http';
import type { DirectoryCache, ServerConfig } from '@gatehouse/oauth-reads';
import type { Context } from 'koa';
import { formLimitBytes, type RawParameters, readParameters } from './parameters.js';

/** The parameters of client authentication: they authenticate the request, they are not part of it. */
export const credentialParameters = ['client_secret', 'client_assertion', 'client_assertion_type'];

/** The request's form, tenant and server, or the JSON OAuth error that refuses it. */
export async function readBackChannelRequest(
  ctx: Context,
  directory: DirectoryCache,
  serverId: string,
): Promise<{ tenant: string; config: ServerConfig; raw: RawParameters }> {
  const tenant = ctx.state.tenant as string | undefined;
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type')))
    throw new InvalidRequest('The body must be a form (application/x-www-form-urlencoded).');
  const raw = readParameters(await readBodyText(ctx, formLimitBytes));
  if (raw.repeated.size > 0)
    throw new InvalidRequest(
      `The parameter ${[...raw.repeated][0]} was sent more than once.`.slice(0, 300),
    );
  if (!tenant || (await directory.tenantStatus(tenant)) !== 'ACTIVE')
    throw new InvalidRequest('The requested path was not found', 404);
  const config = await directory.server(tenant, serverId);
  if (!config || config.server?.status === 'INACTIVE')
    throw new InvalidRequest('The authorization server was not found or is not active.', 404);
  return { tenant, config, raw };
}

/** Scopes the server does not have, refused now as /authorize would refuse them later. */
export function checkScopesDefined(config: ServerConfig, scopes: readonly string[]): void {
  const defined = config.server
    ? new Set([...config.scopes.map((scope) => scope.name), ...openIdConnectScopes])
    : orgServerScopes;
  const unknown = scopes.filter((scope) => !defined.has(scope));
  if (unknown.length === 0) return;
  const denial = scopesNotConfigured(unknown);
  throw new OAuthError(400, denial.error, denial.description);
}
