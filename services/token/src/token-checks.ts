// What a token presented back to the server is: one of its access or ID tokens, still valid and not
// revoked (signature, issuer, expiry, and the token's and its grant's revocation entries, read in one
// round trip, with the implicit invalidation rules of SPEC section 6), or one of its current
// refresh tokens.
import {
  bindingDigestOfTokenId,
  grantIdOfTokenId,
  grantKeys,
  type RefreshRecord,
  sha256Hex,
} from '@gatehouse/grants';
import { TokenInvalidError, verifyJwt } from '@gatehouse/jwt';
import {
  type FreshnessGuard,
  type ServerConfig,
  stillValid,
  subjectTokenQuery,
} from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { KeyRing } from '@gatehouse/signing-keys';

export type InspectedToken =
  | {
      kind: 'access_token' | 'id_token';
      grantId: string;
      clientId: string;
      claims: Record<string, unknown>;
    }
  | {
      kind: 'refresh_token';
      grantId: string;
      clientId: string;
      record: RefreshRecord;
      tokenSha256: string;
    };

/** The audiences a server's access tokens carry. */
export const serverAudiences = (config: ServerConfig): readonly string[] =>
  typeof config.audience === 'string' ? [config.audience] : config.audience;

const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * `clientId`: the client asking; an ID token is only ever its own (its `aud`). The token's shape
 * says what it is, so a `token_type_hint` is not needed: RFC 7009 and 7662 let a hint be wrong.
 */
export async function inspectToken(
  token: string,
  config: ServerConfig,
  clientId: string,
  deps: { store: ProjectionStore; ring: KeyRing; now: () => number; guard: FreshnessGuard },
): Promise<InspectedToken | undefined> {
  if (token.length > 16 * 1024) return undefined;
  return looksLikeJwt(token)
    ? inspectJwt(token, config, clientId, deps)
    : inspectRefreshToken(token, config, deps);
}

async function inspectJwt(
  token: string,
  config: ServerConfig,
  clientId: string,
  deps: { store: ProjectionStore; ring: KeyRing; now: () => number; guard: FreshnessGuard },
): Promise<InspectedToken | undefined> {
  const keys = await deps.ring.verificationKeys(config.tenant, config.serverId);
  const audiences = serverAudiences(config);
  let claims: Record<string, unknown>;
  try {
    claims = verifyJwt(token, {
      issuer: config.issuer,
      audience: [...audiences, clientId],
      keys,
      now: deps.now,
    }).claims;
  } catch (error) {
    if (error instanceof TokenInvalidError) return undefined;
    throw error;
  }
  const jti = typeof claims.jti === 'string' ? claims.jti : '';
  const grantId = grantIdOfTokenId(jti);
  if (!grantId) return undefined;
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const kind = jti.startsWith('AT.') ? 'access_token' : 'id_token';
  // An access token must be for this server, an ID token for the asking client.
  if (kind === 'access_token' && !auds.some((aud) => audiences.includes(aud as string)))
    return undefined;
  if (kind === 'id_token' && claims.aud !== clientId) return undefined;
  const owner = kind === 'access_token' ? claims.cid : claims.aud;
  if (typeof owner !== 'string') return undefined;
  const userId = kind === 'access_token' ? claims.uid : claims.sub;
  // A token issued by token exchange lives only as long as the token it was exchanged for.
  const subjectToken = subjectTokenQuery(
    config.tenant,
    typeof userId === 'string' ? userId : undefined,
    claims,
  );
  if (subjectToken === false) return undefined;
  const valid = await stillValid(
    deps.store,
    {
      binding: {
        tenant: config.tenant,
        serverId: config.serverId,
        clientId: owner,
        ...(typeof userId === 'string' ? { userId } : {}),
      },
      bindingDigest: bindingDigestOfTokenId(jti) ?? '',
      grantId,
      jti,
      ...(subjectToken ? { subjectToken } : {}),
    },
    deps.guard,
  );
  if (!valid) return undefined;
  return { kind, grantId, clientId: owner, claims };
}

/**
 * A code's or a refresh family's grant: not revoked, and nothing it is bound to changed since it was
 * issued (SPEC section 6).
 */
export function grantStillValid(
  store: ProjectionStore,
  config: ServerConfig,
  grant: { grantId: string; clientId: string; userId: string; bindingDigest: string },
  guard: FreshnessGuard,
): Promise<boolean> {
  return stillValid(
    store,
    {
      binding: {
        tenant: config.tenant,
        serverId: config.serverId,
        clientId: grant.clientId,
        userId: grant.userId,
      },
      bindingDigest: grant.bindingDigest,
      grantId: grant.grantId,
    },
    guard,
  );
}

async function inspectRefreshToken(
  token: string,
  config: ServerConfig,
  deps: { store: ProjectionStore; now: () => number; guard: FreshnessGuard },
): Promise<InspectedToken | undefined> {
  if (token.length > 256) return undefined;
  const tokenSha256 = sha256Hex(token);
  const stored = await deps.store.get(grantKeys.refresh(config.tenant, tokenSha256));
  if (stored === null) return undefined;
  const record = JSON.parse(stored) as RefreshRecord;
  const now = deps.now();
  if (record.state !== 'current' || record.serverId !== config.serverId) return undefined;
  if (record.idleExpiresAt <= now || (record.familyExpiresAt ?? Infinity) <= now) return undefined;
  if (!(await grantStillValid(deps.store, config, record, deps.guard))) return undefined;
  return {
    kind: 'refresh_token',
    grantId: record.grantId,
    clientId: record.clientId,
    record,
    tokenSha256,
  };
}
