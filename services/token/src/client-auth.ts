// Client authentication at /token, /introspect and /revoke (RFC 6749 section 2.3; seed 000
// "Authentication mechanisms"): client_secret_basic, client_secret_post, or none for a public client.
// Exactly one mechanism per request. As Okta does (SPEC section 5), a client registered for either
// secret method may use either, and at /revoke and /introspect a public client may name itself in a
// Basic header with no secret (okta-auth-js sends `Basic base64(client_id)` there).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientView } from '@gatehouse/directory';
import { InvalidClient, InvalidRequest } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ClientThrottle } from './client-throttle.js';

export interface AuthenticatedClient {
  client: ClientView;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
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

export async function authenticateClient(
  ctx: { req: IncomingMessage },
  form: Map<string, string>,
  directory: DirectoryCache,
  tenant: string,
  throttle: ClientThrottle,
  options: {
    /** /revoke and /introspect: a public client may send its client_id alone as Basic. */
    publicClientBasic?: boolean;
  } = {},
): Promise<AuthenticatedClient> {
  const header = ctx.req.headers.authorization ?? '';
  const usesBasic = header !== '';
  const usesPost = form.has('client_secret');
  if (usesBasic && (usesPost || form.has('client_assertion')))
    throw new InvalidRequest(
      'Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.',
    );
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
  const client = await directory.client(tenant, clientId);
  const authenticated =
    client?.status === 'ACTIVE' &&
    acceptsMethod(client, presented, basic !== undefined, options) &&
    (presented === 'none' || sameSecret(secret, client));
  // Past the client's or the source's budget: 429 whether or not the secret was right.
  const rateLimit = await throttle.admit(ctx.req, tenant, clientId, authenticated);
  if (!authenticated) throw invalidClient();
  return { client, method: presented, rateLimit };
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
