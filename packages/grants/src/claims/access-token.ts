// The payload of an access token (seed 001, "Access token payload" and its reserved claims).
import type { Claim } from '@gatehouse/contracts';
import { addCustomClaims, applicableClaims } from './custom-claims.js';
import type { TokenSubject } from './subject.js';

/**
 * The claim of an access token issued by token exchange (RFC 8693) naming the token it was issued
 * for: `{jti, server, cid}`, the subject token's id (its grant and binding digest are in it), its
 * authorization server and its client; the user is the same. Every check of the token checks that
 * one too (SPEC section 6: the exchanged token dies with its subject token).
 */
export const subjectTokenClaim = 'sbj';

export interface SubjectTokenLink {
  jti: string;
  server: string;
  cid: string;
}

export interface AccessTokenClaimsInput {
  issuer: string;
  audience: string | readonly string[];
  clientId: string;
  /** The granted scopes. */
  scopes: readonly string[];
  /** Absent for client_credentials. */
  subject?: TokenSubject;
  /** Epoch seconds. */
  now: number;
  lifetimeSeconds: number;
  /** Made by the caller, `AT.` prefix included. */
  jti: string;
  /** The server's claim definitions; [] for the org server. */
  customClaims: readonly Claim[];
  /** RFC 9449 section 6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  dpopJkt?: string;
  /** Token exchange: the token this one is issued for. */
  subjectToken?: SubjectTokenLink;
}

/**
 * ver, jti, iss, aud, sub, iat, exp, cid, uid, scp, auth_time, then the custom RESOURCE claims of
 * the granted scopes, then `cnf` for a DPoP-bound token. `sub` is the user's login (Okta's access tokens), or the client id when there
 * is no user; uid and auth_time only when there is one.
 */
export function accessTokenClaims(input: AccessTokenClaimsInput): Record<string, unknown> {
  const { subject } = input;
  const claims: Record<string, unknown> = {
    ver: 1,
    jti: input.jti,
    iss: input.issuer,
    aud: audienceClaim(input.audience),
    sub: subject ? subject.user.login : input.clientId,
    iat: input.now,
    exp: input.now + input.lifetimeSeconds,
    cid: input.clientId,
  };
  if (subject) claims.uid = subject.user.id;
  claims.scp = [...input.scopes];
  if (subject) claims.auth_time = subject.authTime;
  const resourceClaims = applicableClaims(input.customClaims, {
    claimType: 'RESOURCE',
    scopes: input.scopes,
  });
  addCustomClaims(claims, resourceClaims, subject?.user);
  if (input.dpopJkt) claims.cnf = { jkt: input.dpopJkt };
  if (input.subjectToken) claims[subjectTokenClaim] = { ...input.subjectToken };
  return claims;
}

/** RFC 7519: a single audience may be a string, which is what Okta sends. */
function audienceClaim(audience: string | readonly string[]): string | string[] {
  if (typeof audience === 'string') return audience;
  return audience.length === 1 ? audience[0]! : [...audience];
}
