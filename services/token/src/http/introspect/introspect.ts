// POST .../v1/introspect (RFC 7662): a client asks about a token; only its own tokens are ever active
// to it. Inactive tokens, unknown ones and other clients' all answer exactly {"active": false}.

import type { ClientThrottle, RemoteJwks } from '@gatehouse/client-auth';
import { authenticateClient } from '@gatehouse/client-auth';
import {
  type DirectHandler,
  type DirectReply,
  type DirectRequest,
  InvalidRequest,
  readForm,
} from '@gatehouse/http';
import type { DirectoryCache, FreshnessGuard } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import { inspectToken } from '../../token-checks.js';

const isDpopConfirmation = (cnf: unknown): cnf is { jkt: string } =>
  typeof cnf === 'object' && cnf !== null && typeof (cnf as { jkt?: unknown }).jkt === 'string';

import { requireServerConfig } from '../server.js';

/**
 * The handlers of the org server's and a custom server's introspection endpoint; the service
 * answers them directly (DirectRoutesKoa) and on its koa router.
 */
export function introspectHandlers(deps: {
  guard: FreshnessGuard;
  store: ProjectionStore;
  directory: DirectoryCache;
  ring: KeyRing;
  now: () => number;
  throttle: ClientThrottle;
  remoteJwks: RemoteJwks;
  keks: KeyEncryptionKeys;
}): { org: DirectHandler; custom: DirectHandler } {
  const introspect = async (request: DirectRequest, serverId: string): Promise<DirectReply> => {
    const config = await requireServerConfig(deps.directory, request.tenant, serverId);
    const form = await readForm(request);
    const { client, rateLimit: headers } = await authenticateClient(
      request,
      form,
      config,
      'introspect',
      deps,
      { publicClientBasic: true },
    );
    const token = form.get('token');
    if (!token) throw new InvalidRequest('The token parameter is required.');
    const found = await inspectToken(token, config, client.id, deps);
    if (!found || found.clientId !== client.id) {
      return { body: { active: false }, headers };
    }
    if (found.kind === 'refresh_token') {
      const { record } = found;
      return {
        headers,
        body: {
          active: true,
          token_type: 'refresh_token',
          scope: record.scopes.join(' '),
          client_id: record.clientId,
          ...(record.userId ? { uid: record.userId } : {}),
          exp: Math.floor(
            Math.min(record.idleExpiresAt, record.familyExpiresAt ?? Infinity) / 1000,
          ),
          iss: config.issuer,
          ...(record.dpopJkt ? { cnf: { jkt: record.dpopJkt } } : {}),
        },
      };
    }
    const { claims } = found;
    // RFC 9449 section 6.2: a DPoP-bound token is of type DPoP, with the key it is bound to.
    const bound = found.kind === 'access_token' && isDpopConfirmation(claims.cnf);
    return {
      headers,
      body: {
        active: true,
        token_type: found.kind === 'access_token' ? (bound ? 'DPoP' : 'Bearer') : 'id_token',
        ...(Array.isArray(claims.scp) ? { scope: (claims.scp as string[]).join(' ') } : {}),
        client_id: client.id,
        username: claims.sub,
        exp: claims.exp,
        iat: claims.iat,
        sub: claims.sub,
        aud: claims.aud,
        iss: claims.iss,
        jti: claims.jti,
        ...(typeof claims.uid === 'string' ? { uid: claims.uid } : {}),
        ...(bound ? { cnf: claims.cnf } : {}),
      },
    };
  };
  return {
    org: (request) => introspect(request, orgServerId),
    custom: (request) => introspect(request, request.params.asId!),
  };
}
