// The payload of an ID token (seed 000's and seed 001's ID token claims, and seed 001's table of
// which scope-dependent claims an ID token carries for each response type).
import type { Claim } from '@gatehouse/contracts';
import { addCustomClaims, applicableClaims } from './custom-claims.js';
import { compactStandardClaims, standardClaims } from './standard-claims.js';
import type { TokenSubject } from './subject.js';
import { deviceSecretHash, tokenHash } from './token-hash.js';

/** Seed 001: ID tokens live 60 minutes, on every server, not configurable. */
export const idTokenLifetimeSeconds = 60 * 60;

export interface IdTokenClaimsInput {
  issuer: string;
  clientId: string;
  subject: TokenSubject;
  /** The granted scopes. */
  scopes: readonly string[];
  /** Epoch seconds. */
  now: number;
  jti: string;
  /** The org id, or the identity provider the user signed in with. */
  idp: string;
  /** As the authorization request gave it. */
  nonce?: string;
  /** The access token issued with this ID token, if any: gives at_hash, and fewer claims. */
  accessToken?: string;
  /** The authorization code issued with this ID token (hybrid flow): gives c_hash. */
  code?: string;
  server: 'org' | 'custom';
  /** The server's claim definitions; [] for the org server. */
  customClaims: readonly Claim[];
  /**
   * OpenID Connect Native SSO: the session (`sid`, the grant) and the SHA-256 (hex) of its device
   * secret, whose left half is `ds_hash` as at_hash is the access token's.
   */
  session?: { sid: string; deviceSecretSha256: string };
}

/**
 * ver, sub (the user id), iss, aud (the client), iat, exp, jti, amr, idp, nonce, auth_time, at_hash,
 * c_hash, then the claims of the scopes.
 */
export function idTokenClaims(input: IdTokenClaimsInput): Record<string, unknown> {
  const { subject } = input;
  const claims: Record<string, unknown> = {
    ver: 1,
    sub: subject.user.id,
    iss: input.issuer,
    aud: input.clientId,
    iat: input.now,
    exp: input.now + idTokenLifetimeSeconds,
    jti: input.jti,
    amr: [...subject.amr],
    idp: input.idp,
  };
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  claims.auth_time = subject.authTime;
  if (input.accessToken !== undefined) claims.at_hash = tokenHash(input.accessToken);
  if (input.code !== undefined) claims.c_hash = tokenHash(input.code);
  if (input.session) {
    claims.sid = input.session.sid;
    claims.ds_hash = deviceSecretHash(input.session.deviceSecretSha256);
  }
  Object.assign(claims, scopeDependentClaims(input));
  addCustomClaims(claims, identityClaimsFor(input), subject.user);
  return claims;
}

/**
 * Without an access token the ID token is the client's only source of claims, so it carries them
 * all; with one it stays small (name, preferred_username, email) and /userinfo has the rest.
 */
function scopeDependentClaims(input: IdTokenClaimsInput): Record<string, unknown> {
  const { user } = input.subject;
  return withAccessToken(input)
    ? compactStandardClaims(user, input.scopes)
    : standardClaims(user, input.scopes);
}

/**
 * Custom claims are a custom server's (seed 001): all IDENTITY claims of the granted scopes without
 * an access token; with one, only those marked alwaysIncludeInToken.
 */
function identityClaimsFor(input: IdTokenClaimsInput): Claim[] {
  if (input.server !== 'custom') return [];
  return applicableClaims(input.customClaims, {
    claimType: 'IDENTITY',
    scopes: input.scopes,
    onlyAlwaysIncluded: withAccessToken(input),
  });
}

function withAccessToken(input: IdTokenClaimsInput): boolean {
  return input.accessToken !== undefined;
}

/**
 * What /userinfo answers for an access token's scopes (seed 000: the claims an ID token would carry
 * for them, and `sub` always): every standard claim of the scopes, and a custom server's IDENTITY
 * claims of the scopes.
 */
export function userinfoClaims(input: {
  subject: TokenSubject;
  scopes: readonly string[];
  server: 'org' | 'custom';
  customClaims: readonly Claim[];
}): Record<string, unknown> {
  const { user } = input.subject;
  const claims: Record<string, unknown> = { sub: user.id, ...standardClaims(user, input.scopes) };
  if (input.server === 'custom')
    addCustomClaims(
      claims,
      applicableClaims(input.customClaims, {
        claimType: 'IDENTITY',
        scopes: input.scopes,
        onlyAlwaysIncluded: false,
      }),
      user,
    );
  return claims;
}
