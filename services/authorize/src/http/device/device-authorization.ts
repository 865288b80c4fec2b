// The device authorization endpoint (RFC 8628 section 3.1): POST {issuer}/v1/device/authorize takes a
// device's request in the back channel from an authenticated client (every method /token takes; a
// public native client sends its client_id), checks its scopes against the server as /par does, and
// answers the device code, the user code and where the user enters it: the tenant's hosted page
// {org}/activate. Whether the user may grant the scopes is the policy's to say once a user approves.
import { authenticateClient, type ClientAuthDeps } from '@gatehouse/client-auth';
import { orgBaseUrl, type TenancyConfig } from '@gatehouse/directory';
import {
  deviceCodeGrantType,
  displayUserCode,
  openIdConnectScopes,
  orgServerScopes,
  scopesNotConfigured,
} from '@gatehouse/grants';
import {
  InvalidRequest,
  InvalidScope,
  OAuthError,
  readBodyText,
  UnauthorizedClient,
} from '@gatehouse/http';
import type { DirectoryCache, ServerConfig } from '@gatehouse/oauth-reads';
import { orgServerId } from '@gatehouse/signing-keys';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DeviceAuthorizations } from '../../device-authorizations.js';
import { formLimitBytes, readParameters } from '../parameters.js';

/** The hosted verification page's path under the org base URL. */
export const activatePath = '/activate';

/** The parameters of client authentication: they authenticate the request, they are not its scope. */
const credentialParameters = ['client_secret', 'client_assertion', 'client_assertion_type'];

/** A `scope` parameter as a list: at most 1024 characters (seed 001), space-separated. */
function requestedScopes(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  if (scope.length > 1024)
    throw new InvalidScope('The scope parameter must be at most 1024 characters.');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f"\\]/.test(scope))
    throw new InvalidScope('The scope parameter has invalid characters.');
  return [...new Set(scope.split(' ').filter((name) => name.length > 0))];
}

/** Scopes the server does not have: refused now, as /authorize and /par refuse them. */
function checkScopesDefined(config: ServerConfig, scopes: readonly string[]): void {
  const defined = config.server
    ? new Set([...config.scopes.map((scope) => scope.name), ...openIdConnectScopes])
    : orgServerScopes;
  const unknown = scopes.filter((scope) => !defined.has(scope));
  if (unknown.length === 0) return;
  const denial = scopesNotConfigured(unknown);
  throw new OAuthError(400, denial.error, denial.description);
}

export function deviceAuthorizationRoutes(
  deps: {
    directory: DirectoryCache;
    clientAuth: ClientAuthDeps;
    devices: DeviceAuthorizations;
    tenancy: TenancyConfig;
  },
  router: Router,
): Router {
  const authorizeDevice = async (ctx: Context, serverId: string) => {
    const tenant = ctx.state.tenant as string | undefined;
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type')))
      throw new InvalidRequest('The body must be a form (application/x-www-form-urlencoded).');
    const raw = readParameters(await readBodyText(ctx, formLimitBytes));
    if (raw.repeated.size > 0)
      throw new InvalidRequest(
        `The parameter ${[...raw.repeated][0]} was sent more than once.`.slice(0, 300),
      );
    if (!tenant || (await deps.directory.tenantStatus(tenant)) !== 'ACTIVE')
      throw new InvalidRequest('The requested path was not found', 404);
    const config = await deps.directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE')
      throw new InvalidRequest('The authorization server was not found or is not active.', 404);
    const { client, rateLimit } = await authenticateClient(
      ctx,
      raw.values,
      config,
      'device/authorize',
      deps.clientAuth,
    );
    ctx.set(rateLimit);
    for (const name of credentialParameters) raw.values.delete(name);
    const registered = client.metadata.grantTypes;
    if (!registered.includes(deviceCodeGrantType))
      throw new UnauthorizedClient(
        `The client is not authorized to use the provided grant type. Configured grant types: [${registered.join(', ')}].`,
      );
    const scopes = requestedScopes(raw.values.get('scope'));
    checkScopesDefined(config, scopes);
    const issued = await deps.devices.issue(config, client.id, scopes, ctx.state.requestId);
    const verificationUri = `${orgBaseUrl(deps.tenancy, tenant).replace(/\/$/, '')}${activatePath}`;
    const userCode = displayUserCode(issued.userCode);
    ctx.status = 200;
    ctx.body = {
      device_code: issued.deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: issued.expiresIn,
      interval: issued.interval,
    };
  };
  router.post('/oauth2/v1/device/authorize', (ctx) => authorizeDevice(ctx, orgServerId));
  router.post('/oauth2/:serverId/v1/device/authorize', (ctx) =>
    authorizeDevice(ctx, ctx.params.serverId!),
  );
  return router;
}
