// Client authentication at /token, /introspect and /revoke (RFC 6749 section 2.3; seed 000
// "Authentication mechanisms"): client_secret_basic, client_secret_post, private_key_jwt (RFC 7523,
// client-assertion.ts), or none for a public client. Exactly one mechanism per request. As Okta does (SPEC section 5), a client registered for either
// secret method may use either, and at /revoke and /introspect a public client may name itself in a
// Basic header with no secret (okta-auth-js sends `Basic base64(client_id)` there).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type ClientView, endpointsBase } from '@gatehouse/directory';
import { InvalidClient, InvalidRequest } from '@gatehouse/http';
import type { DirectoryCache, ServerConfig } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { type KeyEncryptionKeys, orgServerId } from '@gatehouse/signing-keys';
import {
  assertedClientId,
  jwtBearerAssertionType,
  type RemoteJwks,
  verifyClientAssertion,
} from './client-assertion.js';
import type { ClientThrottle } from './client-throttle.js';

export interface AuthenticatedClient {
  client: ClientView;
  method:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'client_secret_jwt'
    | 'private_key_jwt'
    | 'none';
  /** The client's budget at these endpoints, as Okta's X-Rate-Limit-* headers. */
  rateLimit: Record<string, string>;
}

// The registered secret's SHA-256 as bytes, decoded once per client view: the directory cache
// hands out the same object until the client changes, and a changed client is a new object.
const registeredDigests = new WeakMap<ClientView, Buffer>();
function registeredDigest(client: ClientView): Buffer {
  let digest = registeredDigests.get(client);
  if (digest === undefined) {
    digest = Buffer.from(client.secretSha256, 'hex');
    registeredDigests.set(client, digest);
  }
  return digest;
}

const malformedBasic = () =>
  new InvalidRequest('The Authorization header is not valid Basic authentication.');

/**
 * RFC 6749 section 2.3.1: the id and secret are form-urlencoded before they are base64-encoded.
 * Without a colon the header names a client and no secret, which only `allowIdOnly` accepts.
 */
function readBasic(header: string, allowIdOnly: boolean): { clientId: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!match) throw malformedBasic();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  let colon = decoded.indexOf(':');
  if (colon < 0) {
    if (!allowIdOnly || decoded === '') throw malformedBasic();
    colon = decoded.length;
  }
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    throw malformedBasic();
  }
}

/** The endpoints that authenticate clients; an assertion's `aud` may name the one it is sent to. */
export type ClientAuthEndpoint = 'token' | 'introspect' | 'revoke' | 'par' | 'device/authorize';

export interface ClientAuthDeps {
  directory: DirectoryCache;
  throttle: ClientThrottle;
  store: ProjectionStore;
  remoteJwks: RemoteJwks;
  keks: KeyEncryptionKeys;
  now: () => number;
}

/**
 * Authenticates the client of a request to `endpoint` of the server `config`: the one mechanism the
 * request uses must be the one the client registered (either secret method for a secret client).
 */
export async function authenticateClient(
  ctx: { req: IncomingMessage },
  form: Map<string, string>,
  config: ServerConfig,
  endpoint: ClientAuthEndpoint,
  deps: ClientAuthDeps,
  options: {
    /** /revoke and /introspect: a public client may send its client_id alone as Basic. */
    publicClientBasic?: boolean;
  } = {},
): Promise<AuthenticatedClient> {
  const { tenant } = config;
  const header = ctx.req.headers.authorization ?? '';
  const usesBasic = header !== '';
  const usesPost = form.has('client_secret');
  const usesAssertion = form.has('client_assertion') || form.has('client_assertion_type');
  if ([usesBasic, usesPost, usesAssertion].filter(Boolean).length > 1)
    throw new InvalidRequest(
      'Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.',
    );
  if (usesAssertion) return authenticateByAssertion(ctx, form, config, endpoint, deps);
  const publicClientBasic = options.publicClientBasic ?? false;
  const basic = usesBasic ? readBasic(header, publicClientBasic) : undefined;
  const clientId = basic?.clientId ?? form.get('client_id');
  if (!clientId)
    throw new InvalidRequest(
      'No client credentials found. Provide the client id and secret in the Authorization header or the body.',
    );
  if (basic && form.has('client_id') && form.get('client_id') !== basic.clientId)
    throw new InvalidRequest('The client_id in the body is not the authenticated one.');
  const secret = basic?.secret ?? form.get('client_secret') ?? '';
  // The mechanism the request used: a secret in the header or the body, or none at all.
  const presented: AuthenticatedClient['method'] =
    secret === '' ? 'none' : basic ? 'client_secret_basic' : 'client_secret_post';
  // An invalid client gets 401; with Basic, a challenge for the scheme it tried (RFC 6749 5.2).
  const invalidClient = () =>
    new InvalidClient(
      'Client authentication failed. Either the client or the client credentials are invalid.',
      basic ? { 'WWW-Authenticate': 'Basic realm="gatehouse"' } : {},
    );
  if (clientId.length > 128) throw invalidClient();
  const client = await deps.directory.client(tenant, clientId);
  const authenticated =
    client?.status === 'ACTIVE' &&
    acceptsMethod(client, presented, basic !== undefined, options) &&
    (presented === 'none' || sameSecret(secret, client));
  // Past the client's or the source's budget: 429 whether or not the secret was right.
  const rateLimit = await deps.throttle.admit(ctx.req, tenant, clientId, authenticated);
  if (!authenticated) throw invalidClient();
  return { client, method: presented, rateLimit };
}

/**
 * private_key_jwt and client_secret_jwt: the client is the one the assertion names, registered for
 * the method, and the assertion must verify.
 */
async function authenticateByAssertion(
  ctx: { req: IncomingMessage },
  form: Map<string, string>,
  config: ServerConfig,
  endpoint: ClientAuthEndpoint,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  const assertion = form.get('client_assertion');
  const type = form.get('client_assertion_type');
  if (!assertion || !type)
    throw new InvalidRequest(
      'A client assertion needs both client_assertion and client_assertion_type.',
    );
  if (type !== jwtBearerAssertionType)
    throw new InvalidClient(`The client_assertion_type must be ${jwtBearerAssertionType}.`);
  if (assertion.length > 16_384) throw new InvalidClient('The client_assertion is too large.');
  const clientId = assertedClientId(assertion);
  if (form.has('client_id') && form.get('client_id') !== clientId)
    throw new InvalidRequest(
      'The client_id in the body is not the one the client_assertion names.',
    );
  const failed = () =>
    new InvalidClient(
      'Client authentication failed. Either the client or the client credentials are invalid.',
    );
  if (clientId.length > 128) throw failed();
  const client = await deps.directory.client(config.tenant, clientId);
  let refusal: Error | undefined;
  const method = client?.metadata.tokenEndpointAuthMethod;
  if (
    client?.status !== 'ACTIVE' ||
    (method !== 'private_key_jwt' && method !== 'client_secret_jwt')
  )
    refusal = failed();
  else {
    const base = endpointsBase(config.issuer, config.serverId !== orgServerId);
    const endpoints = [...new Set([`${base}/${endpoint}`, `${base}/token`])];
    refusal = await verifyClientAssertion(
      assertion,
      client,
      config.tenant,
      { issuer: config.issuer, endpoints },
      deps,
    ).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof InvalidClient) return error;
        throw error;
      },
    );
  }
  // Past the client's or the source's budget: 429 whether or not the assertion was right.
  const rateLimit = await deps.throttle.admit(ctx.req, config.tenant, clientId, !refusal);
  if (refusal) throw refusal;
  return { client: client!, method: method as 'private_key_jwt' | 'client_secret_jwt', rateLimit };
}

/**
 * Okta's leniency: either secret method for a client registered with one of them; a public client
 * shows no secret, in the body or (where allowed) as a Basic header without one.
 */
function acceptsMethod(
  client: ClientView,
  presented: AuthenticatedClient['method'],
  usedBasic: boolean,
  options: { publicClientBasic?: boolean },
): boolean {
  const registered = client.metadata.tokenEndpointAuthMethod;
  // A client of a JWT method shows no secret: only its assertion authenticates it (a
  // client_secret_jwt client's secret never travels).
  if (registered === 'private_key_jwt' || registered === 'client_secret_jwt') return false;
  if (registered === 'none')
    return presented === 'none' && (!usedBasic || options.publicClientBasic === true);
  return (
    (registered === 'client_secret_basic' || registered === 'client_secret_post') &&
    presented !== 'none'
  );
}

function sameSecret(secret: string, client: ClientView): boolean {
  const given = createHash('sha256').update(secret).digest();
  const expected = registeredDigest(client);
  return expected.length === given.length && timingSafeEqual(given, expected);
}
