// OAuth clients (RFC 7591 shape) and apps (Okta's lifecycle and assignments), per tenant:
//   POST {org}/oauth2/v1/clients            GET|PUT|DELETE {org}/oauth2/v1/clients/{clientId}
//   POST {org}/oauth2/v1/clients/{clientId}/lifecycle/newSecret
//   POST {org}/api/v1/apps/{clientId}/lifecycle/{activate|deactivate}
//   PUT|DELETE {org}/api/v1/apps/{clientId}/users/{userId}, .../groups/{groupId}
// A client secret is 256 random bits, shown once; only its SHA-256 is kept (SPEC section 3).
import { createHash, randomBytes } from 'node:crypto';
import {
  type ClientCommand,
  type ClientView,
  clientViewOf,
  DomainError,
  decideClient,
  type FieldProblem,
  idPattern,
  isPublicClient,
  keys,
  loginKey,
  newId,
  readClientMetadata,
  readStreams,
  streams,
} from '@gatehouse/directory';
import {
  InvalidClientMetadata,
  InvalidRedirectUri,
  type OAuthError,
  OktaApiError,
  readJsonObject,
} from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter } from '../../directory-writer.js';

export interface ClientRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
}

export function clientRoutes({ store, writer }: ClientRoutesDeps): Router {
  const router = new Router();
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const load = async (tenant: string, id: string) =>
    idPattern.test(id) ? clientViewOf(await store.hgetall(keys.client(tenant, id))) : undefined;
  const mustLoad = async (ctx: Context) => {
    const client = await load(tenantOf(ctx), ctx.params.clientId!);
    if (!client) throw OktaApiError.notFound('AppInstance', ctx.params.clientId!);
    return client;
  };
  /** A command on one client, decided on its state in the write model. */
  const run = (ctx: Context, id: string, command: ClientCommand) =>
    writer.run(tenantOf(ctx), ctx.state.requestId as string, `client/${id}`, async (reads) => {
      const [client] = await readStreams(reads, [streams.client(id)]);
      return changesOf(id, decideClient(command, client));
    });
  /** An assignment, decided on the client, the assignment, and the user or group it names. */
  const assign = (
    ctx: Context,
    id: string,
    command: Extract<ClientCommand, { kind: `${string}User` | `${string}Group` }>,
  ) =>
    writer.run(tenantOf(ctx), ctx.state.requestId as string, undefined, async (reads) => {
      const [client, assigned] = await readStreams(reads, [
        streams.client(id),
        'userId' in command
          ? streams.appUser(id, command.userId)
          : streams.appGroup(id, command.groupId),
      ]);
      // Whom it assigns must exist as the command is admitted, not only when it was asked.
      if (command.kind === 'AssignUser') {
        const [user] = await readStreams(reads, [streams.user(command.userId)]);
        if (user.status === 'NONE') throw OktaApiError.notFound('User', command.userId);
      } else if (command.kind === 'AssignGroup') {
        const [group] = await readStreams(reads, [streams.group(command.groupId)]);
        if (group.status === 'NONE') throw OktaApiError.notFound('UserGroup', command.groupId);
      }
      return changesOf(id, decideClient(command, client, assigned));
    });
  const newSecret = () => {
    const secret = randomBytes(32).toString('base64url');
    return { secret, sha256: createHash('sha256').update(secret).digest('hex') };
  };
  const present = (client: ClientView, secret?: string) => ({
    client_id: client.id,
    client_id_issued_at: Math.floor(Date.parse(client.created) / 1000),
    client_name: client.metadata.clientName,
    ...(secret ? { client_secret: secret } : {}),
    ...(isPublicClient(client.metadata) ? {} : { client_secret_expires_at: 0 }),
    redirect_uris: client.metadata.redirectUris,
    post_logout_redirect_uris: client.metadata.postLogoutRedirectUris,
    response_types: client.metadata.responseTypes,
    grant_types: client.metadata.grantTypes,
    token_endpoint_auth_method: client.metadata.tokenEndpointAuthMethod,
    application_type: client.metadata.applicationType,
    consent_method: client.metadata.consentMethod,
  });
  const metadataOf = async (ctx: Context) => {
    const { metadata, problems } = readClientMetadata(await readJsonObject(ctx));
    if (!metadata) throw registrationError(problems);
    return metadata;
  };

  router.post('/oauth2/v1/clients', async (ctx) => {
    const tenant = tenantOf(ctx);
    const metadata = await metadataOf(ctx);
    const id = newId('0oa');
    const secret = isPublicClient(metadata) ? undefined : newSecret();
    await run(ctx, id, {
      kind: 'RegisterClient',
      id,
      metadata,
      secretSha256: secret?.sha256 ?? '',
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
    try {
      await run(ctx, client.id, { kind: 'UpdateClient', id: client.id, metadata });
    } catch (error) {
      // A domain refusal of metadata is a registration error too (RFC 7592 section 2.2).
      if (error instanceof DomainError && error.kind === 'invalid')
        throw registrationError(error.problems);
      throw error;
    }
    ctx.body = present((await load(tenantOf(ctx), client.id))!);
  });

  router.delete('/oauth2/v1/clients/:clientId', async (ctx) => {
    const client = await mustLoad(ctx);
    await run(ctx, client.id, { kind: 'DeleteClient', id: client.id });
    ctx.status = 204;
  });

  router.post('/oauth2/v1/clients/:clientId/lifecycle/newSecret', async (ctx) => {
    const client = await mustLoad(ctx);
    const secret = newSecret();
    await run(ctx, client.id, {
      kind: 'RotateClientSecret',
      id: client.id,
      secretSha256: secret.sha256,
    });
    ctx.body = present((await load(tenantOf(ctx), client.id))!, secret.secret);
  });

  router.post('/api/v1/apps/:clientId/lifecycle/:action', async (ctx) => {
    const kind = ({ activate: 'ActivateClient', deactivate: 'DeactivateClient' } as const)[
      ctx.params.action as 'activate'
    ];
    if (!kind) throw OktaApiError.pathNotFound();
    const client = await mustLoad(ctx);
    await run(ctx, client.id, { kind, id: client.id });
    ctx.body = {};
  });

  router.put('/api/v1/apps/:clientId/users/:userId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const client = await mustLoad(ctx);
    const userId = await userIdOf(store, tenant, ctx.params.userId!);
    await assign(ctx, client.id, { kind: 'AssignUser', id: client.id, userId });
    const user = await store.hgetall(keys.user(tenant, userId));
    const login = (JSON.parse(user.profile ?? '{}') as { login?: string }).login ?? '';
    ctx.body = {
      id: userId,
      scope: 'USER',
      status: 'ACTIVE',
      credentials: { userName: login },
      profile: {},
    };
  });

  router.put('/api/v1/apps/:clientId/groups/:groupId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const client = await mustLoad(ctx);
    const groupId = ctx.params.groupId!;
    const [exists] = await store.read([{ op: 'exists', key: keys.group(tenant, groupId) }]);
    if (!idPattern.test(groupId) || !exists) throw OktaApiError.notFound('UserGroup', groupId);
    await assign(ctx, client.id, { kind: 'AssignGroup', id: client.id, groupId });
    ctx.body = { id: groupId, priority: 0, profile: {} };
  });

  router.delete('/api/v1/apps/:clientId/users/:userId', async (ctx) => {
    const client = await mustLoad(ctx);
    await assign(ctx, client.id, {
      kind: 'UnassignUser',
      id: client.id,
      userId: await userIdOf(store, tenantOf(ctx), ctx.params.userId!),
    });
    ctx.status = 204;
  });

  router.delete('/api/v1/apps/:clientId/groups/:groupId', async (ctx) => {
    const client = await mustLoad(ctx);
    await assign(ctx, client.id, {
      kind: 'UnassignGroup',
      id: client.id,
      groupId: ctx.params.groupId!,
    });
    ctx.status = 204;
  });

  return router;
}

async function userIdOf(
  store: ProjectionStore,
  tenant: string,
  idOrLogin: string,
): Promise<string> {
  const id = idPattern.test(idOrLogin)
    ? idOrLogin
    : await store.get(keys.userByLogin(tenant, loginKey(idOrLogin)));
  const [exists] = id ? await store.read([{ op: 'exists', key: keys.user(tenant, id) }]) : [false];
  if (!id || !exists) throw OktaApiError.notFound('User', idOrLogin);
  return id;
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
