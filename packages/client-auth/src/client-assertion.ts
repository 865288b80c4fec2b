// Client authentication with a signed JWT (RFC 7523 section 2.2 and 3, OpenID Connect Core section
// 9): with `private_key_jwt` the client signs an assertion with a private key whose public half it
// registered, inline (`jwks`) or at a URL it serves (`jwks_uri`); with `client_secret_jwt` it signs
// it with HMAC (HS256) keyed by its client secret, which the token service opens from its sealed
// copy (the KEK's, as the signing keys are). The assertion names the client as
// `iss` and `sub`, this server as `aud` (its issuer, as openid-client sends, or the URL of the
// endpoint, as Okta's SDKs send), expires soon, and is used once: its `jti` is remembered in the
// shared store until it expires, so no replica accepts it again.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import {
  clientAssertionAlgorithms as assertionAlgorithms,
  type ClientView,
  loopbackHosts,
  clientSecretAssertionAlgorithms as secretAssertionAlgorithms,
} from '@gatehouse/directory';
import { grantKeys } from '@gatehouse/grants';
import { InvalidClient, InvalidRequest } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, openClientSecret } from '@gatehouse/signing-keys';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';

export const jwtBearerAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far in the future an assertion may expire (Okta's bound): its `jti` is kept that long. */
const maxLifetimeSeconds = 3600;
/** Clock skew allowed between the client and this server. */
const clockToleranceSeconds = 30;

export interface AssertionAudience {
  /** The authorization server's issuer. */
  issuer: string;
  /** The URL of the endpoint the request was sent to, and the token endpoint's. */
  endpoints: readonly string[];
}

/** The client an assertion names, read before it is verified, to find the keys to verify it with. */
export function assertedClientId(assertion: string): string {
  let claims: { iss?: unknown; sub?: unknown };
  try {
    decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw new InvalidClient('The client_assertion is not a valid JWT.');
  }
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.iss !== claims.sub)
    throw new InvalidClient(
      "The client_assertion's iss and sub claims must both be the client_id.",
    );
  return claims.sub;
}

export interface RemoteJwksOptions {
  /** Whether a jwks_uri may use http on a loopback host (development and tests); https otherwise. */
  allowHttpLoopback?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  /** How long a fetched set is used before it is fetched again. */
  maxAgeMs?: number;
  /** A signature by a key the set lacks fetches it again, at most this often. */
  cooldownMs?: number;
  now?: () => number;
}

const privateAddress = 'it resolves to a private, loopback or link-local address';

/** Addresses a client's jwks_uri may not reach: this deployment's own networks, and the cloud's. */
const privateRanges = (() => {
  const list = new BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of [
    ['::', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ] as const)
    list.addSubnet(network, prefix, 'ipv6');
  return list;
})();
const loopbackRanges = (() => {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  return list;
})();

/** An error and the causes under it (undici wraps the connection's error). */
function causes(error: unknown): unknown[] {
  const found: unknown[] = [];
  let at = error;
  while (at !== undefined && at !== null && found.length < 5) {
    found.push(at);
    at = (at as { cause?: unknown }).cause;
  }
  return found;
}

/**
 * The JWK sets clients publish at their `jwks_uri`: fetched with a timeout and a size limit, never
 * following a redirect, kept for a while, and fetched again early (with a cooldown) when an
 * assertion names a key the kept set lacks — a client that rotated its key.
 */
export class RemoteJwks {
  private readonly sets = new Map<string, { at: number; keys: Promise<JWTVerifyGetKey> }>();
  private readonly options: Required<RemoteJwksOptions>;

  /** Connects only to public addresses (loopback too where http on loopback is allowed). */
  private readonly agent: Agent;

  constructor(options: RemoteJwksOptions = {}) {
    this.agent = new Agent({
      connect: {
        lookup: (hostname, lookupOptions, callback) =>
          lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
            if (error) return callback(error, '', 4);
            const blocked = addresses.find(({ address }) => !this.publicAddress(address));
            if (blocked)
              return callback(
                Object.assign(new Error(`${hostname} resolves to ${blocked.address}`), {
                  code: 'EPRIVATEADDRESS',
                }),
                '',
                4,
              );
            if (lookupOptions.all) return callback(null, addresses as never, 4);
            callback(null, addresses[0]!.address, addresses[0]!.family);
          }),
      },
    });
    this.options = {
      allowHttpLoopback: options.allowHttpLoopback ?? false,
      timeoutMs: options.timeoutMs ?? 3_000,
      maxBytes: options.maxBytes ?? 64 * 1024,
      maxAgeMs: options.maxAgeMs ?? 5 * 60_000,
      cooldownMs: options.cooldownMs ?? 30_000,
      now: options.now ?? Date.now,
    };
  }

  /** Closes the connections kept to clients' jwks_uri hosts. */
  close(): Promise<void> {
    return this.agent.close();
  }

  /** Whether `address` is one a jwks_uri may reach (IPv4-mapped IPv6 judged as its IPv4). */
  private publicAddress(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (loopbackRanges.check(ip, family)) return this.options.allowHttpLoopback;
    return !privateRanges.check(ip, family);
  }

  /** The key set at `uri`; `refresh` fetches it again unless it was fetched within the cooldown. */
  keys(uri: string, refresh = false): Promise<JWTVerifyGetKey> {
    const now = this.options.now();
    const kept = this.sets.get(uri);
    const age = kept ? now - kept.at : Number.POSITIVE_INFINITY;
    if (kept && age < this.options.maxAgeMs && !(refresh && age >= this.options.cooldownMs))
      return kept.keys;
    const keys = this.fetch(uri);
    // A failed fetch is not kept: the next request tries again.
    keys.catch(() => {
      if (this.sets.get(uri)?.keys === keys) this.sets.delete(uri);
    });
    this.sets.delete(uri);
    this.sets.set(uri, { at: now, keys });
    // Bounded: the oldest set goes first.
    if (this.sets.size > 10_000) this.sets.delete(this.sets.keys().next().value!);
    return keys;
  }

  private async fetch(uri: string): Promise<JWTVerifyGetKey> {
    const unusable = (why: string) =>
      new InvalidClient(`The client's jwks_uri cannot be used: ${why}.`);
    const url = new URL(uri);
    if (
      url.protocol !== 'https:' &&
      !(
        url.protocol === 'http:' &&
        this.options.allowHttpLoopback &&
        loopbackHosts.includes(url.hostname)
      )
    )
      throw unusable('it must use https');
    // A client names the URL this server fetches: never one inside the deployment's own network
    // (SSRF). An address literal is checked here; a name, as it resolves, by the agent's lookup,
    // so that a name cannot resolve elsewhere between a check and the connection.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.publicAddress(host)) throw unusable(privateAddress);
    let response: Response;
    try {
      response = (await undiciFetch(url, {
        redirect: 'error',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
        dispatcher: this.agent,
      })) as unknown as Response;
    } catch (error) {
      if (causes(error).some((cause) => (cause as { code?: string }).code === 'EPRIVATEADDRESS'))
        throw unusable(privateAddress);
      throw unusable(`it could not be reached (no answer within ${this.options.timeoutMs} ms)`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unusable(`it answered ${response.status}`);
    }
    const text = await readLimited(response, this.options.maxBytes).catch(() => undefined);
    if (text === undefined)
      throw unusable(`its document is larger than ${this.options.maxBytes} bytes`);
    let set: unknown;
    try {
      set = JSON.parse(text);
    } catch {
      throw unusable('its document is not JSON');
    }
    return localKeys(set, unusable);
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error('too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const publicMembers = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const;

/** A key set's public keys, ready to verify with; a malformed set is the client's error. */
function localKeys(set: unknown, unusable: (why: string) => Error): JWTVerifyGetKey {
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw unusable('it is not a JWK set');
  const publicKeys = keys
    .filter((key): key is Record<string, unknown> => typeof key === 'object' && key !== null)
    .filter((key) => key.use === undefined || key.use === 'sig')
    .map((key) =>
      Object.fromEntries(publicMembers.filter((m) => key[m] !== undefined).map((m) => [m, key[m]])),
    );
  try {
    return createLocalJWKSet({ keys: publicKeys } as JSONWebKeySet);
  } catch {
    throw unusable('it is not a JWK set');
  }
}

/** A registered client's inline key set, parsed once per client view (a changed client is a new view). */
const inlineSets = new WeakMap<ClientView, JWTVerifyGetKey>();
function inlineKeys(client: ClientView): JWTVerifyGetKey {
  let keys = inlineSets.get(client);
  if (keys === undefined) {
    let set: unknown;
    try {
      set = JSON.parse(client.metadata.jwks);
    } catch {
      set = undefined;
    }
    keys = localKeys(set, (why) => new InvalidClient(`The client's jwks cannot be used: ${why}.`));
    inlineSets.set(client, keys);
  }
  return keys;
}

export interface ClientAssertionDeps {
  store: ProjectionStore;
  remoteJwks: RemoteJwks;
  /** Opens client secrets sealed for client_secret_jwt. */
  keks: KeyEncryptionKeys;
  now: () => number;
}

/** A client's secret, opened once per client view (a new secret makes a new view). */
const openedSecrets = new WeakMap<ClientView, Buffer>();
function secretKey(client: ClientView, tenant: string, keks: KeyEncryptionKeys): Buffer {
  let key = openedSecrets.get(client);
  if (key === undefined) {
    if (!client.secretSealed)
      throw new InvalidClient(
        'The client has no secret kept for client_secret_jwt: generate a new client secret.',
      );
    // A secret sealed under a KEK this deployment lacks throws UnsealError: the operator's fault
    // (GATEHOUSE_KEK must list every KEK still in use), answered as a server error and logged.
    key = openClientSecret(client.secretSealed, keks, tenant, client.id);
    openedSecrets.set(client, key);
  }
  return key;
}

/**
 * Verifies a `private_key_jwt` or `client_secret_jwt` assertion of `client` (already found by the
 * id it names, and registered for one of them) for a request to one of `audience`'s endpoints, and
 * spends its `jti`. Throws InvalidClient saying what
 * is wrong: the client's developer needs to know, and it tells an attacker nothing they lack.
 */
export async function verifyClientAssertion(
  assertion: string,
  client: ClientView,
  tenant: string,
  audience: AssertionAudience,
  deps: ClientAssertionDeps,
): Promise<void> {
  const { jwks, jwksUri } = client.metadata;
  const bySecret = client.metadata.tokenEndpointAuthMethod === 'client_secret_jwt';
  const fromUri = !bySecret && !jwks && Boolean(jwksUri);
  const verify = async (keys: JWTVerifyGetKey | Uint8Array) =>
    jwtVerify(assertion, keys as JWTVerifyGetKey, {
      algorithms: bySecret ? [...secretAssertionAlgorithms] : [...assertionAlgorithms],
      issuer: client.id,
      subject: client.id,
      audience: [audience.issuer, ...audience.endpoints],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: clockToleranceSeconds,
      currentDate: new Date(deps.now()),
    });
  let payload: Awaited<ReturnType<typeof verify>>['payload'];
  try {
    try {
      const keys = bySecret
        ? secretKey(client, tenant, deps.keks)
        : fromUri
          ? await deps.remoteJwks.keys(jwksUri)
          : inlineKeys(client);
      payload = (await verify(keys)).payload;
    } catch (error) {
      // A key the kept set lacks: the client may have rotated its key since it was fetched.
      if (!(fromUri && error instanceof errors.JWKSNoMatchingKey)) throw error;
      payload = (await verify(await deps.remoteJwks.keys(jwksUri, true))).payload;
    }
  } catch (error) {
    throw assertionError(error);
  }
  const now = deps.now() / 1000;
  const exp = payload.exp!;
  if (exp > now + maxLifetimeSeconds + clockToleranceSeconds)
    throw new InvalidClient(
      'The client_assertion expires too far in the future: its exp may be at most one hour away.',
    );
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 512)
    throw new InvalidClient(
      'The client_assertion must have a jti claim of at most 512 characters.',
    );
  // Single use, across every replica, for as long as the assertion could be accepted.
  const ttlMs = Math.max(1_000, Math.ceil((exp + clockToleranceSeconds - now) * 1000));
  const fresh = await deps.store.setIfAbsent(
    grantKeys.clientAssertion(
      tenant,
      client.id,
      createHash('sha256').update(payload.jti).digest('hex'),
    ),
    String(Math.floor(now)),
    { ttlMs },
  );
  if (!fresh) throw new InvalidClient('The client_assertion has already been used.');
}

function assertionError(error: unknown): Error {
  if (error instanceof InvalidClient || error instanceof InvalidRequest) return error;
  if (error instanceof errors.JWTExpired)
    return new InvalidClient('The client_assertion is expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'aud')
      return new InvalidClient(
        "The client_assertion's aud claim is invalid: it must be the authorization server's issuer or the URL of the endpoint.",
      );
    if (claim === 'iss' || claim === 'sub')
      return new InvalidClient(
        "The client_assertion's iss and sub claims must both be the client_id.",
      );
    if (claim === 'nbf' || claim === 'iat')
      return new InvalidClient(`The client_assertion's ${claim} claim is in the future.`);
    return new InvalidClient(`The client_assertion must have a valid ${claim} claim.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new InvalidClient(
      `The client_assertion is signed with an algorithm its client's method does not allow (private_key_jwt: ${assertionAlgorithms.join(', ')}; client_secret_jwt: ${secretAssertionAlgorithms.join(', ')}).`,
    );
  if (error instanceof errors.JWKSNoMatchingKey)
    return new InvalidClient(
      "No key of the client's JWK set matches the client_assertion's header.",
    );
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return new InvalidClient(
      "Several keys of the client's JWK set match the client_assertion's header: name one by kid.",
    );
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidClient('The client_assertion signature is invalid.');
  if (error instanceof errors.JOSEError)
    return new InvalidClient('The client_assertion is not a valid JWT.');
  return error instanceof Error ? error : new Error(String(error));
}
