// DPoP proofs (RFC 9449 section 4): a JWT the client signs with a key it holds, whose public half
// travels in the proof's own header (`jwk`), made for one HTTP request (`htm`, `htu`), now (`iat`),
// once (`jti`), and at a resource for one access token (`ath`). The checks are section 4.3's, in its
// order; the signature is checked with node:crypto synchronously (no key import through WebCrypto,
// which would cost a promise and a copy per request). What a proof proves is its key's JWK SHA-256
// thumbprint (RFC 7638), which tokens carry as `cnf.jkt` (section 6.1).
import {
  constants,
  createHash,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  verify,
} from 'node:crypto';
import { grantKeys } from '@gatehouse/grants';
import { InvalidDpopProof, UseDpopNonce } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { DpopNonces } from './nonces.js';

/** The algorithms a proof may be signed with (discovery's `dpop_signing_alg_values_supported`). */
export const dpopSigningAlgorithms = ['RS256', 'PS256', 'ES256'] as const;
type DpopAlgorithm = (typeof dpopSigningAlgorithms)[number];

/** How far a proof's `iat` may be from this server's clock, either way. */
export const dpopIatToleranceSeconds = 60;
const maxProofLength = 8 * 1024;
const maxJtiLength = 512;
const minRsaModulusBits = 2048;
/**
 * Public keys by their thumbprint input, most recently used last: a client signs every proof with
 * the same key, and importing it (createPublicKey from a JWK) costs about as much as verifying.
 */
const importedKeys = new Map<string, KeyObject>();
const importedKeysBound = 1_000;
/** Members of a JWK that only a private key has: a proof carrying one is refused (section 4.3). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface DpopRequest {
  /** The request's method. */
  method: string;
  /** The URL the client sent the request to, as the server's issuer names it. */
  url: string;
  /** At a resource: the access token the request presents (the proof's `ath` must be its hash). */
  accessToken?: string;
  /** Epoch ms. */
  now: number;
}

export interface DpopProofDeps {
  /** Where each proof is remembered until it can no longer be accepted (shared by replicas). */
  store: Pick<ProjectionStore, 'setIfAbsent'>;
  tenant: string;
  /** The server's nonces, where it requires one in each proof (the token endpoint's, section 8). */
  nonces?: DpopNonces;
}

export interface VerifiedDpopProof {
  /** The JWK SHA-256 thumbprint (RFC 7638) of the proof's key: what a bound token's cnf.jkt is. */
  jkt: string;
  jti: string;
}

const refuse = (description: string) => new InvalidDpopProof(description);

/**
 * The `DPoP` header of a request: undefined when there is none; refused when it was sent more than
 * once (node joins a repeated header with commas, which a compact JWS cannot contain) or is empty.
 */
export function dpopHeaderOf(headers: Record<string, string | string[] | undefined>) {
  const value = headers.dpop;
  if (value === undefined) return undefined;
  if (Array.isArray(value) || value.includes(','))
    throw refuse('The DPoP header must be sent once.');
  return value;
}

/**
 * Checks a DPoP proof for a request (RFC 9449 section 4.3) and takes it: a proof is accepted once,
 * across every replica, while its `iat` is within the window. Every refusal is `invalid_dpop_proof`
 * saying why; a missing or stale nonce where the server requires one is `use_dpop_nonce` with a
 * fresh nonce in its `DPoP-Nonce` header.
 */
export async function verifyDpopProof(
  proof: string,
  request: DpopRequest,
  deps: DpopProofDeps,
): Promise<VerifiedDpopProof> {
  if (proof.length > maxProofLength) throw refuse('The DPoP proof is too large.');
  const parts = proof.split('.');
  if (parts.length !== 3) throw refuse('The DPoP proof is not a JWT.');
  const header = jsonPart(parts[0]!);
  const payload = jsonPart(parts[1]!);
  if (!header || !payload) throw refuse('The DPoP proof is not a JWT.');

  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt')
    throw refuse("The DPoP proof's typ header must be dpop+jwt.");
  const alg = header.alg;
  if (typeof alg !== 'string' || !(dpopSigningAlgorithms as readonly string[]).includes(alg))
    throw refuse(`The DPoP proof must be signed with one of ${dpopSigningAlgorithms.join(', ')}.`);
  const { key, thumbprintInput } = publicKeyOf(header.jwk, alg as DpopAlgorithm);
  const signature = Buffer.from(parts[2]!, 'base64url');
  if (!signatureValid(alg as DpopAlgorithm, `${parts[0]}.${parts[1]}`, key, signature))
    throw refuse("The DPoP proof's signature does not verify with its jwk.");

  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > maxJtiLength)
    throw refuse(`The DPoP proof must have a jti claim of at most ${maxJtiLength} characters.`);
  if (htm !== request.method) throw refuse(`The DPoP proof's htm claim must be ${request.method}.`);
  if (typeof htu !== 'string' || !sameResource(htu, request.url))
    throw refuse(`The DPoP proof's htu claim must be ${request.url}.`);
  if (deps.nonces) {
    const { nonce } = payload;
    if (nonce === undefined) throw new UseDpopNonce(deps.nonces.current());
    if (typeof nonce !== 'string' || !deps.nonces.valid(nonce))
      throw new UseDpopNonce(deps.nonces.current(), 'The DPoP proof nonce is invalid or expired.');
  }
  const nowSeconds = request.now / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw refuse('The DPoP proof must have a numeric iat claim.');
  if (Math.abs(iat - nowSeconds) > dpopIatToleranceSeconds)
    throw refuse(
      `The DPoP proof's iat must be within ${dpopIatToleranceSeconds} seconds of the server's time.`,
    );
  if (request.accessToken !== undefined) {
    if (typeof payload.ath !== 'string')
      throw refuse('The DPoP proof must have an ath claim: the hash of the access token.');
    if (payload.ath !== accessTokenHash(request.accessToken))
      throw refuse("The DPoP proof's ath claim is not the hash of this access token.");
  }

  const jkt = createHash('sha256').update(thumbprintInput).digest('base64url');
  // Once, across every replica, for as long as its iat keeps it acceptable.
  const ttlMs = Math.max(1_000, Math.ceil((iat + dpopIatToleranceSeconds) * 1000 - request.now));
  const fresh = await deps.store.setIfAbsent(
    grantKeys.dpopProof(deps.tenant, createHash('sha256').update(`${jkt}\n${jti}`).digest('hex')),
    String(Math.floor(nowSeconds)),
    { ttlMs },
  );
  if (!fresh) throw refuse('The DPoP proof has already been used.');
  return { jkt, jti };
}

/** `ath` (section 4.2): the base64url SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

function jsonPart(part: string): Record<string, unknown> | undefined {
  if (part === '' || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The proof's public key, of the type its algorithm needs, and its RFC 7638 thumbprint input (the
 * required members in lexicographic order, no whitespace).
 */
function publicKeyOf(
  jwk: unknown,
  alg: DpopAlgorithm,
): { key: KeyObject; thumbprintInput: string } {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk))
    throw refuse("The DPoP proof's header must carry its public key as jwk.");
  const given = jwk as Record<string, unknown>;
  if (privateMembers.some((member) => member in given))
    throw refuse("The DPoP proof's jwk must be a public key.");
  const text = (name: string) => {
    const value = given[name];
    if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9_-]+$/.test(value))
      throw refuse(`The DPoP proof's jwk has no valid ${name}.`);
    return value;
  };
  let members: JsonWebKey;
  let thumbprintInput: string;
  if (alg === 'ES256') {
    if (given.kty !== 'EC' || given.crv !== 'P-256')
      throw refuse('An ES256 DPoP proof needs an EC P-256 jwk.');
    const [x, y] = [text('x'), text('y')];
    members = { kty: 'EC', crv: 'P-256', x, y };
    thumbprintInput = `{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`;
  } else {
    if (given.kty !== 'RSA') throw refuse(`A ${alg} DPoP proof needs an RSA jwk.`);
    const [n, e] = [text('n'), text('e')];
    members = { kty: 'RSA', n, e };
    thumbprintInput = `{"e":"${e}","kty":"RSA","n":"${n}"}`;
  }
  const known = importedKeys.get(thumbprintInput);
  if (known) {
    importedKeys.delete(thumbprintInput);
    importedKeys.set(thumbprintInput, known);
    return { key: known, thumbprintInput };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch {
    throw refuse("The DPoP proof's jwk is not a valid public key.");
  }
  if (alg !== 'ES256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < minRsaModulusBits)
    throw refuse(`The DPoP proof's RSA key must have at least ${minRsaModulusBits} bits.`);
  // Kept only once it is known good, so that what is refused is refused every time.
  if (importedKeys.size >= importedKeysBound)
    importedKeys.delete(importedKeys.keys().next().value!);
  importedKeys.set(thumbprintInput, key);
  return { key, thumbprintInput };
}

function signatureValid(
  alg: DpopAlgorithm,
  signingInput: string,
  key: KeyObject,
  signature: Buffer,
): boolean {
  const data = Buffer.from(signingInput, 'ascii');
  try {
    switch (alg) {
      case 'ES256':
        return (
          signature.length === 64 &&
          verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'RS256':
        return verify('sha256', data, key, signature);
      case 'PS256':
        return verify(
          'sha256',
          data,
          {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          },
          signature,
        );
    }
  } catch {
    return false;
  }
}

/**
 * Whether a proof's `htu` names the request's URL (section 4.3 step 9): scheme, host, port and path,
 * ignoring any query and fragment, compared after RFC 3986's syntax-based normalisation (what
 * WHATWG URL parsing does: case of scheme and host, default ports, dot segments).
 */
function sameResource(htu: string, url: string): boolean {
  if (htu.length > 2048) return false;
  const normal = (value: string) => {
    try {
      const parsed = new URL(value);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    } catch {
      return undefined;
    }
  };
  const claimed = normal(htu);
  return claimed !== undefined && claimed === normal(url);
}
