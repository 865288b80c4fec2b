// The short-lived state of grants (SPEC section 6): authorization codes, refresh token families and
// revocation entries. The service that creates an entry writes it at once, so a code is redeemable
// the moment it is issued; the entries that must survive a Redis loss (refresh tokens, revocations)
// are also projected from the events, with the same values. Secrets are kept only as SHA-256 hashes.
import { createHash, randomFillSync } from 'node:crypto';

/**
 * Keys under `fs:` are state the services write themselves (and the projector writes again from the
 * events, monotonically or once): shared by every generation of the read models, so that what a
 * service just wrote is there whichever generation is current.
 */
export const grantKeys = {
  /** string, JSON CodeRecord, then a RedeemedCode once exchanged; expires with the code (+ replay window) */
  code: (tenant: string, codeSha256: string) => `fs:code:${tenant}:${codeSha256}`,
  /** string, JSON RefreshRecord; expires when the token can no longer be used nor reused */
  refresh: (tenant: string, tokenSha256: string) => `fs:refresh:${tenant}:${tokenSha256}`,
  /** string: the time of revocation; expires when the token would have */
  revokedToken: (tenant: string, jti: string) => `fs:revoked-token:${tenant}:${jti}`,
  /** string: the reason; expires when the grant's last token would have */
  revokedGrant: (tenant: string, grantId: string) => `fs:revoked-grant:${tenant}:${grantId}`,
  /** string: when a client assertion (RFC 7523) was used, by the SHA-256 of its jti; expires with it */
  clientAssertion: (tenant: string, clientId: string, jtiSha256: string) =>
    `fs:client-assertion:${tenant}:${clientId}:${jtiSha256}`,
  /**
   * string: when a DPoP proof (RFC 9449) was used, by the SHA-256 of its key's thumbprint and jti;
   * expires once its iat is out of the accepted window
   */
  dpopProof: (tenant: string, proofSha256: string) => `fs:dpop-proof:${tenant}:${proofSha256}`,
  /**
   * string, JSON DeviceSecretRecord (OpenID Connect Native SSO), by the SHA-256 of the secret;
   * expires with it
   */
  deviceSecret: (tenant: string, secretSha256: string) =>
    `fs:device-secret:${tenant}:${secretSha256}`,
  /** string, JSON of a pushed authorization request (RFC 9126), by the SHA-256 of its reference; 60 s */
  pushedRequest: (tenant: string, referenceSha256: string) => `fs:par:${tenant}:${referenceSha256}`,
  /**
   * string, JSON DeviceAuthorization (RFC 8628), by the SHA-256 of its device code; lives until an
   * hour past its expiry (deviceRecordRetentionMs)
   */
  deviceCode: (tenant: string, deviceCodeSha256: string) =>
    `fs:device-code:${tenant}:${deviceCodeSha256}`,
  /** string: the SHA-256 of the device code a (normalised) user code stands for; as long as it lives */
  userCode: (tenant: string, userCodeSha256: string) => `fs:user-code:${tenant}:${userCodeSha256}`,
  /** string, JSON DevicePoll: a device code's last poll and its interval; as long as it lives */
  devicePoll: (tenant: string, deviceCodeSha256: string) =>
    `fs:device-poll:${tenant}:${deviceCodeSha256}`,
  /** set: the scopes a user consented to for a client of a server (projected from ConsentGranted) */
  consent: (tenant: string, serverId: string, clientId: string, userId: string) =>
    `rm:consent:${tenant}:${serverId}:${clientId}:${userId}`,
};

export const sha256Hex = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** What an authorization code stands for, from /authorize to its exchange at /token. */
export interface CodeRecord {
  grantId: string;
  serverId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  /** epoch seconds */
  authTime: number;
  amr: string[];
  nonce?: string;
  /** PKCE (RFC 7636): S256 only. */
  codeChallenge?: string;
  /** The binding digest when the code was issued: the exchange is refused once it differs. */
  bindingDigest: string;
  /** epoch ms */
  expiresAt: number;
  /** Lifetimes decided by the policy when the code was issued; the exchange does not evaluate again. */
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number | null;
  refreshTokenWindowSeconds: number;
}

/** A code after its exchange: a second exchange is a replay, and the grant it produced is revoked. */
export interface RedeemedCode {
  redeemed: true;
  grantId: string;
}

/** How long a redeemed code is remembered, to recognise a replay. */
export const codeReplayWindowMs = 24 * 3600_000;

/** A refresh token of a family; `state` spent once it has been exchanged for its successor. */
export interface RefreshRecord {
  grantId: string;
  state: 'current' | 'spent';
  /**
   * The family's version when this token was issued: 1 for its first token, n + 1 after n
   * rotations. The record is written monotonically by it (SPEC section 1): the token's own "spent"
   * (version n + 1) is never undone by a late write of its issuing event (version n). 0: unknown, for
   * records written before families were versioned.
   */
  sequence: number;
  serverId: string;
  clientId: string;
  userId: string;
  scopes: string[];
  authTime: number;
  amr: string[];
  /** The binding digest of the grant: the family ends once it differs from the current one. */
  bindingDigest: string;
  /** epoch ms; null: the family never ends by age */
  familyExpiresAt: number | null;
  /** epoch ms: the token ends unused after this */
  idleExpiresAt: number;
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number | null;
  refreshTokenWindowSeconds: number;
  /**
   * RFC 9449 section 5: the thumbprint of the DPoP key a public client's token is bound to; each
   * refresh must carry a proof made with it. Absent: not bound.
   */
  dpopJkt?: string;
  /** Native SSO: the SHA-256 (hex) of the session's device secret, for its ID tokens' ds_hash. */
  deviceSecretSha256?: string;
}

/**
 * A device secret (OpenID Connect Native SSO): the session it was issued with, which an ID token
 * presented with it must belong to, and the binding it dies with (SPEC section 6).
 */
export interface DeviceSecretRecord {
  /** The grant it was issued with; its ID tokens' `sid`. */
  grantId: string;
  serverId: string;
  /** The native app it was issued to. */
  clientId: string;
  userId: string;
  bindingDigest: string;
  /** epoch seconds, and how (the session's sign-in) */
  authTime: number;
  amr: string[];
  /** epoch ms */
  expiresAt: number;
}

/** A fresh grant id: 128 random bits, base64url. */
// Ids from a pool of random bytes filled 4 KiB at a time, as randomUUID does: randomBytes(16) per id
// crosses into the crypto library twice per token. Each 16 bytes are handed out once.
const pool = Buffer.allocUnsafe(16 * 256);
let pooled = pool.length;
/** 128 random bits, base64url (22 characters). */
export function randomId128(): string {
  if (pooled === pool.length) {
    randomFillSync(pool);
    pooled = 0;
  }
  const id = pool.toString('base64url', pooled, pooled + 16);
  pooled += 16;
  return id;
}

export const newGrantId = () => randomId128();

/**
 * Token ids carry their grant and their binding digest (see invalidation.ts):
 * `AT.{grantId}.{random}.{digest}` for access tokens, `ID.` for ID tokens. The jti is signed with the
 * token, so one check can find the grant's revocation and compare the digest in one round trip.
 */
export const newTokenId = (kind: 'AT' | 'ID', grantId: string, bindingDigest: string) =>
  `${kind}.${grantId}.${randomId128()}.${bindingDigest}`;

const tokenIdPattern = /^(?:AT|ID)\.([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{22}\.([A-Za-z0-9_-]{12})$/;

/** The grant id inside a jti made by newTokenId, or undefined. */
export function grantIdOfTokenId(jti: string): string | undefined {
  return tokenIdPattern.exec(jti)?.[1];
}

/** The binding digest inside a jti made by newTokenId, or undefined. */
export function bindingDigestOfTokenId(jti: string): string | undefined {
  return tokenIdPattern.exec(jti)?.[2];
}
