// Reading a client from the read models and running commands on it: shared by the two views of the
// same clients, /oauth2/v1/clients (RFC 7591) and /api/v1/apps (Okta's apps).
import { createHash, randomBytes } from 'node:crypto';
import type { SealedClientSecret } from '@gatehouse/contracts';
import {
  type ClientCommand,
  type ClientState,
  clientViewOf,
  decideClient,
  idPattern,
  keys,
  loginKey,
  readStreams,
  streams,
} from '@gatehouse/directory';
import { OktaApiError } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, sealClientSecret } from '@gatehouse/signing-keys';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter } from '../../directory-writer.js';

export type AssignmentCommand = Extract<
  ClientCommand,
  { kind: `${string}User` | `${string}Group` }
>;

export function clientCommands({
  store,
  writer,
  keks,
}: {
  store: ProjectionStore;
  writer: DirectoryWriter;
  keks: KeyEncryptionKeys;
}) {
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  /** A new secret for client `id` of the request's tenant (see `newClientSecret`). */
  const newSecret = (ctx: Context, id: string) => newClientSecret(keks, tenantOf(ctx), id);
  const load = async (tenant: string, id: string) =>
    idPattern.test(id) ? clientViewOf(await store.hgetall(keys.client(tenant, id))) : undefined;
  /** The client the path names (`:clientId`), or 404 E0000007. */
  const mustLoad = async (ctx: Context) => {
    const client = await load(tenantOf(ctx), ctx.params.clientId!);
    if (!client) throw OktaApiError.notFound('AppInstance', ctx.params.clientId!);
    return client;
  };
  /**
   * A command on one client, decided on its state in the write model. `precondition` sees that
   * state first, so that a refusal of the edge's own (an active app's deletion) is decided in log
   * order too.
   */
  const run = (
    ctx: Context,
    id: string,
    command: ClientCommand,
    precondition?: (state: ClientState) => void,
  ) =>
    writer.run(tenantOf(ctx), ctx.state.requestId as string, `client/${id}`, async (reads) => {
      const [client] = await readStreams(reads, [streams.client(id)]);
      precondition?.(client);
      return changesOf(id, decideClient(command, client));
    });
  /** An assignment, decided on the client, the assignment, and the user or group it names. */
  const assign = (ctx: Context, id: string, command: AssignmentCommand) =>
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
  /** A user id from an id or a login, or 404 E0000007. */
  const userIdOf = async (tenant: string, idOrLogin: string): Promise<string> => {
    const id = idPattern.test(idOrLogin)
      ? idOrLogin
      : await store.get(keys.userByLogin(tenant, loginKey(idOrLogin)));
    const [exists] = id
      ? await store.read([{ op: 'exists', key: keys.user(tenant, id) }])
      : [false];
    if (!id || !exists) throw OktaApiError.notFound('User', idOrLogin);
    return id;
  };
  return { tenantOf, load, mustLoad, run, assign, userIdOf, newSecret };
}

/**
 * A client secret: 256 random bits, shown once. Its SHA-256 is what client_secret_basic and
 * client_secret_post are checked against (SPEC section 3); it is also sealed under the KEK for
 * this client alone, because client_secret_jwt verifies an HMAC with the secret itself. Every
 * secret is sealed, whatever the client's method, so that a client can switch to client_secret_jwt
 * later without a new secret.
 */
export function newClientSecret(
  keks: KeyEncryptionKeys,
  tenant: string,
  clientId: string,
): { secret: string; sha256: string; sealed: SealedClientSecret } {
  const secret = randomBytes(32).toString('base64url');
  return {
    secret,
    sha256: createHash('sha256').update(secret).digest('hex'),
    sealed: sealClientSecret(secret, keks, tenant, clientId),
  };
}
