// Validation of an RS256 compact JWS and its registered claims. Checks run cheapest and least
// trusting first: shape, header, key, signature; the payload is parsed only once it is authentic.
import { isUtf8 } from 'node:buffer';
import { type KeyObject, verify } from 'node:crypto';
import { decodeBase64urlStrict, isBase64url } from './base64url.js';
import { isRsaVerificationKey } from './rsa-keys.js';
import { TokenInvalidError } from './token-invalid-error.js';

/** Longer tokens are refused before any decoding: ours are well under 2 KiB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface VerifyOptions {
  /** Must equal the `iss` claim exactly. */
  issuer: string;
  /** The `aud` claim (a string or an array of strings) must contain one of these. */
  audience: string | readonly string[];
  /**
   * The verification key for a `kid`, or undefined when there is none. A key that is not RSA of at
   * least 2048 bits counts as none. An exception thrown here is not caught.
   */
  keys: (kid: string) => KeyObject | undefined;
  /** The current time in epoch milliseconds. Default: Date.now. */
  now?: () => number;
  /**
   * Seconds of clock skew allowed on `exp` and `nbf`. Default: 0, as Gatehouse's own hosts keep
   * NTP time and a token must not outlive its `exp`; resource servers on other clocks may raise it.
   */
  clockToleranceSeconds?: number;
  /**
   * An `iat` further ahead of now than this (plus the tolerance) is `not_yet_valid`: the issuer's
   * clock is broken. Default: 60. Infinity turns the check off.
   */
  maxIatAheadSeconds?: number;
  /** Claims that must be present, besides `exp` which always must, e.g. ['iat', 'sub']. */
  requiredClaims?: readonly string[];
}

export interface VerifiedJwt {
  header: { alg: 'RS256'; kid: string; typ?: string };
  claims: Record<string, unknown>;
}

type Header = VerifiedJwt['header'];

// Tokens from one issuer share a handful of header segments, so each one is decoded, checked and
// kept once. Only accepted headers are kept, and at most this many: a flood of made-up kids evicts
// entries, it does not grow the map.
const MAX_CACHED_HEADERS = 256;
const acceptedHeaders = new Map<string, Header>();

const invalid = (reason: TokenInvalidError['reason'], message: string) =>
  new TokenInvalidError(reason, message);

/** Parses a decoded segment; anything other than a UTF-8 JSON object is `malformed`. */
function jsonObjectOf(bytes: Buffer, what: string): Record<string, unknown> {
  if (!isUtf8(bytes)) throw invalid('malformed', `${what} is not UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('malformed', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('malformed', `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function headerOf(segment: string): Header {
  const cached = acceptedHeaders.get(segment);
  if (cached !== undefined) return cached;
  if (!isBase64url(segment)) throw invalid('malformed', 'header is not base64url');
  const raw = jsonObjectOf(Buffer.from(segment, 'base64url'), 'header');
  // No extension is understood, so any `crit` (RFC 7515 section 4.1.11) must be refused.
  if (Object.hasOwn(raw, 'crit')) throw invalid('malformed', 'header has crit');
  if (raw.typ !== undefined && typeof raw.typ !== 'string')
    throw invalid('malformed', 'typ is not a string');
  // Only RS256: never `none`, and never HS256 keyed with the RSA public key's bytes.
  if (raw.alg !== 'RS256') throw invalid('algorithm', `alg ${JSON.stringify(raw.alg)} refused`);
  if (typeof raw.kid !== 'string' || raw.kid === '') throw invalid('unknown_kid', 'no kid');
  const header: Header =
    raw.typ === undefined
      ? { alg: 'RS256', kid: raw.kid }
      : { alg: 'RS256', kid: raw.kid, typ: raw.typ as string };
  if (acceptedHeaders.size >= MAX_CACHED_HEADERS)
    acceptedHeaders.delete(acceptedHeaders.keys().next().value!);
  acceptedHeaders.set(segment, header);
  return header;
}

/** A NumericDate claim: absent, or a finite number (JSON can spell Infinity as 1e999). */
function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid('malformed', `${name} is not a number`);
  return value;
}

function isAudience(value: unknown, audience: string | readonly string[]): boolean {
  if (typeof value !== 'string') return false;
  return typeof audience === 'string' ? value === audience : audience.includes(value);
}

function hasAudience(aud: unknown, audience: string | readonly string[]): boolean {
  if (!Array.isArray(aud)) return isAudience(aud, audience);
  for (const value of aud) if (isAudience(value, audience)) return true;
  return false;
}

function checkClaims(claims: Record<string, unknown>, options: VerifyOptions): void {
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (exp === undefined) throw invalid('missing_claim', 'exp is missing');
  if (options.requiredClaims !== undefined)
    for (const name of options.requiredClaims)
      if (!Object.hasOwn(claims, name)) throw invalid('missing_claim', `${name} is missing`);
  if (claims.iss !== options.issuer) throw invalid('issuer', 'iss does not match');
  if (!hasAudience(claims.aud, options.audience)) throw invalid('audience', 'aud does not match');

  const now = (options.now ?? Date.now)();
  const tolerance = options.clockToleranceSeconds ?? 0;
  if (now >= (exp + tolerance) * 1000) throw invalid('expired', 'exp has passed');
  if (nbf !== undefined && now < (nbf - tolerance) * 1000)
    throw invalid('not_yet_valid', 'nbf is in the future');
  if (iat !== undefined && now < (iat - tolerance - (options.maxIatAheadSeconds ?? 60)) * 1000)
    throw invalid('not_yet_valid', 'iat is too far in the future');
}

/**
 * Verifies an RS256 compact JWS and its `iss`, `aud`, `exp`, `nbf` and `iat`, and returns its
 * header and claims. Throws TokenInvalidError, and nothing else, for any token it does not accept.
 */
export function verifyJwt(token: string, options: VerifyOptions): VerifiedJwt {
  if (typeof token !== 'string') throw invalid('malformed', 'token is not a string');
  if (token.length > MAX_TOKEN_LENGTH)
    throw invalid('malformed', `token is longer than ${MAX_TOKEN_LENGTH}`);
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0)
    throw invalid('malformed', 'token does not have three segments');

  const header = headerOf(token.slice(0, first));
  const key = options.keys(header.kid);
  if (key === undefined || !isRsaVerificationKey(key))
    throw invalid('unknown_kid', `no RS256 key for kid ${JSON.stringify(header.kid)}`);

  const payload = decodeBase64urlStrict(token.slice(first + 1, second));
  if (payload === undefined) throw invalid('malformed', 'payload is not base64url');
  const signature = decodeBase64urlStrict(token.slice(second + 1));
  if (signature === undefined) throw invalid('malformed', 'signature is not base64url');
  let authentic = false;
  try {
    // Every character before the signature is ASCII by now, so latin1 gives the signed bytes.
    authentic = verify('sha256', Buffer.from(token.slice(0, second), 'latin1'), key, signature);
  } catch {
    // OpenSSL refuses some malformed signatures (e.g. the wrong length) rather than failing them.
  }
  if (!authentic) throw invalid('signature', 'signature does not verify');

  const claims = jsonObjectOf(payload, 'payload');
  checkClaims(claims, options);
  // A copy: the cached header is shared by every token that carries the same segment.
  return { header: { ...header }, claims };
}
