// OAuth clients (RFC 7591 shape), per tenant; the same clients are Okta's apps in ../apps:
//   POST {org}/oauth2/v1/clients            GET|PUT|DELETE {org}/oauth2/v1/clients/{clientId}
//   POST {org}/oauth2/v1/clients/{clientId}/lifecycle/newSecret
import {
  type ClientCommand,
  type ClientView,
  DomainError,
  type FieldProblem,
  newId,
  readClientMetadata,
  usesClientSecret,
} from '@gatehouse/directory';
import {
  InvalidClientMetadata,
  InvalidRedirectUri,
  type OAuthError,
  readJsonObject,
} from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { KeyEncryptionKeys } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryWriter } from '../../directory-writer.js';
import { clientCommands } from './client-commands.js';

export interface ClientRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  /** Seals new client secrets (see `newClientSecret`). */
  keks: KeyEncryptionKeys;
}

export function clientRoutes({ store, writer, keks }: ClientRoutesDeps): Router {
  const router = new Router();
  const { tenantOf, load, mustLoad, run, newSecret } = clientCommands({ store, writer, keks });
  const present = (client: ClientView, secret?: string) => ({
    client_id: client.id,
    client_id_issued_at: Math.floor(Date.parse(client.created) / 1000),
    client_name: client.metadata.clientName,
    ...(secret ? { client_secret: secret } : {}),
    ...(usesClientSecret(client.metadata) ? { client_secret_expires_at: 0 } : {}),
    redirect_uris: client.metadata.redirectUris,
    post_logout_redirect_uris: client.metadata.postLogoutRedirectUris,
    response_types: client.metadata.responseTypes,
    grant_types: client.metadata.grantTypes,
    token_endpoint_auth_method: client.metadata.tokenEndpointAuthMethod,
    ...(client.metadata.jwks ? { jwks: JSON.parse(client.metadata.jwks) } : {}),
    ...(client.metadata.jwksUri ? { jwks_uri: client.metadata.jwksUri } : {}),
    require_pushed_authorization_requests: client.metadata.requirePushedAuthorizationRequests,
    dpop_bound_access_tokens: client.metadata.dpopBoundAccessTokens,
    application_type: client.metadata.applicationType,
    consent_method: client.metadata.consentMethod,
  });
  const metadataOf = async (ctx: Context) => {
    const { metadata, problems } = readClientMetadata(await readJsonObject(ctx));
    if (!metadata) throw registrationError(problems);
    return metadata;
  };
  /** A command whose domain refusal of metadata is a registration error too (RFC 7592 section 2.2). */
  const runRegistration = async (ctx: Context, id: string, command: ClientCommand) => {
    try {
      await run(ctx, id, command);
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'invalid')
        throw registrationError(error.problems);
      throw error;
    }
  };

  router.post('/oauth2/v1/clients', async (ctx) => {
    const tenant = tenantOf(ctx);
    const metadata = await metadataOf(ctx);
    const id = newId('0oa');
    // A private_key_jwt client authenticates with its keys: it gets no secret, as a public one.
    const secret = usesClientSecret(metadata) ? newSecret(ctx, id) : undefined;
    await run(ctx, id, {
      kind: 'RegisterClient',
      id,
      metadata,
      secretSha256: secret?.sha256 ?? '',
      secretSealed: secret?.sealed,
    });
    ctx.status = 201;
    ctx.body = present((await load(tenant, id))!, secret?.secret);
  });

  router.get('/oauth2/v1/clients/:clientId', async (ctx) => {
    ctx.body = present(await mustLoad(ctx));
  });

  router.put('/oauth2/v1/clients/:clientId', async (ctx) => {
    const client = await mustLoad(ctx);
    const metadata = await metadataOf(ctx);
    await runRegistration(ctx, client.id, { kind: 'UpdateClient', id: client.id, metadata });
    ctx.body = present((await load(tenantOf(ctx), client.id))!);
  });

  router.delete('/oauth2/v1/clients/:clientId', async (ctx) => {
    const client = await mustLoad(ctx);
    await run(ctx, client.id, { kind: 'DeleteClient', id: client.id });
    ctx.status = 204;
  });

  router.post('/oauth2/v1/clients/:clientId/lifecycle/newSecret', async (ctx) => {
    const client = await mustLoad(ctx);
    const secret = newSecret(ctx, client.id);
    // A private_key_jwt client has no secret to rotate: 400 invalid_client_metadata, as its method
    // is what is at fault (a public client's refusal stays Okta's 403).
    await runRegistration(ctx, client.id, {
      kind: 'RotateClientSecret',
      id: client.id,
      secretSha256: secret.sha256,
      secretSealed: secret.sealed,
    });
    ctx.body = present((await load(tenantOf(ctx), client.id))!, secret.secret);
  });

  return router;
}

/** RFC 7591 section 3.2.2: invalid_redirect_uri when a redirect URI is at fault, else invalid_client_metadata. */
function registrationError(problems: readonly FieldProblem[]): OAuthError {
  const redirect = problems.filter((p) => p.field.endsWith('redirect_uris'));
  const shown = redirect.length > 0 ? redirect : problems;
  const description = shown.map((p) => p.message).join('; ');
  return redirect.length > 0
    ? new InvalidRedirectUri(description)
    : new InvalidClientMetadata(description);
}
