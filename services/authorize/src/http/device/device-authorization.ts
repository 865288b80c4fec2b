// The device authorization endpoint (RFC 8628 section 3.1): POST {issuer}/v1/device/authorize takes a
// device's request in the back channel from an authenticated client (every method /token takes; a
// public native client sends its client_id), checks its scopes against the server as /par does, and
// answers the device code, the user code and where the user enters it: the tenant's hosted page
// {org}/activate. Whether the user may grant the scopes is the policy's to say once a user approves.
import { authenticateClient, type ClientAuthDeps } from '@gatehouse/client-auth';
import { orgBaseUrl, type TenancyConfig } from '@gatehouse/directory';
import { deviceCodeGrantType, displayUserCode } from '@gatehouse/grants';
import { InvalidScope, UnauthorizedClient } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import { orgServerId } from '@gatehouse/signing-keys';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DeviceAuthorizations } from '../../device-authorizations.js';
import {
  checkScopesDefined,
  credentialParameters,
  readBackChannelRequest,
} from '../back-channel.js';

/** The hosted verification page's path under the org base URL. */
export const activatePath = '/activate';

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
    const { tenant, config, raw } = await readBackChannelRequest(ctx, deps.directory, serverId);
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
