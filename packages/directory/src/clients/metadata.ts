// OAuth client metadata (RFC 7591 names, Okta's rules): reading it from a registration request,
// with Okta's defaults, and checking that grant types, response types, authentication method (with
// a private_key_jwt client's keys) and redirect URIs fit the application type.
import { ClientMetadata } from '@gatehouse/contracts';
import type { FieldProblem } from '../errors.js';
import { readJwkSet } from './jwks.js';

export const applicationTypes = ['web', 'native', 'browser', 'service'] as const;
/** RFC 8693 token exchange: Okta's on-behalf-of flow, and Native SSO (OpenID Connect). */
export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const grantTypes = [
  'authorization_code',
  'implicit',
  'refresh_token',
  'client_credentials',
  tokenExchangeGrantType,
  // RFC 8628; Okta offers it to native applications.
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;
const deviceCodeGrant = 'urn:ietf:params:oauth:grant-type:device_code';
export const authMethods = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
] as const;
export const consentMethods = ['TRUSTED', 'REQUIRED'] as const;
/** Response types as seed 000 lists them, each a space-separated combination. */
export const responseTypes = [
  'code',
  'token',
  'id_token',
  'code id_token',
  'code token',
  'code id_token token',
  'id_token token',
] as const;
/** Hosts that http may name, in redirect URIs and a jwks_uri: the client's own machine. */
export const loopbackHosts: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export function isPublicClient(metadata: ClientMetadata): boolean {
  return metadata.tokenEndpointAuthMethod === 'none';
}

/**
 * Whether the client authenticates with a client secret. A private_key_jwt client is confidential
 * but has none: it signs assertions with a key whose public half it registered (RFC 7523).
 */
export function usesClientSecret(metadata: ClientMetadata): boolean {
  return (
    metadata.tokenEndpointAuthMethod === 'client_secret_basic' ||
    metadata.tokenEndpointAuthMethod === 'client_secret_post' ||
    metadata.tokenEndpointAuthMethod === 'client_secret_jwt'
  );
}

/**
 * Metadata as a read model or the write model kept it in JSON: what was written before a field
 * existed (a client's `jwks` and `jwksUri`) reads as that field's empty value, as the event would.
 */
export function storedClientMetadata(json: unknown): ClientMetadata {
  return ClientMetadata.fromPartial(json as ClientMetadata);
}

/** Reads registration metadata; RFC 7591 says to ignore members it does not define. */
export function readClientMetadata(input: Record<string, unknown>): {
  metadata?: ClientMetadata;
  problems: FieldProblem[];
} {
  const problems: FieldProblem[] = [];
  /** Fields of the wrong JSON type: reported once, not again as missing. */
  const mistyped = new Set<string>();
  const str = (name: string, fallback?: string): string | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string') {
      problems.push({ field: name, message: `'${name}' must be a string` });
      mistyped.add(name);
      return fallback;
    }
    return value.trim();
  };
  const list = (name: string, fallback: string[]): string[] => {
    const value = input[name];
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      problems.push({ field: name, message: `'${name}' must be an array of strings` });
      mistyped.add(name);
      return fallback;
    }
    if (value.length > 100)
      problems.push({ field: name, message: `'${name}' must have at most 100 entries` });
    return [...new Set(value.map((item) => (item as string).trim()))];
  };

  const clientName = str('client_name');
  if (!clientName) {
    if (!mistyped.has('client_name'))
      problems.push({ field: 'client_name', message: "'client_name' is required" });
  } else if (clientName.length > 100)
    problems.push({
      field: 'client_name',
      message: "'client_name' must be at most 100 characters",
    });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  else if (/[\u0000-\u001f\u007f]/.test(clientName))
    problems.push({
      field: 'client_name',
      message: "'client_name' must not contain control characters",
    });

  const applicationType = str('application_type', 'web')!;
  if (!applicationTypes.includes(applicationType as never)) {
    problems.push({
      field: 'application_type',
      message: `'application_type' must be one of ${applicationTypes.join(', ')}`,
    });
  }
  const grants = list(
    'grant_types',
    applicationType === 'service' ? ['client_credentials'] : ['authorization_code'],
  );
  for (const grant of grants) {
    if (!grantTypes.includes(grant as never))
      problems.push({ field: 'grant_types', message: `'${grant}' is not a supported grant type` });
  }
  if (grants.length === 0)
    problems.push({ field: 'grant_types', message: "'grant_types' must not be empty" });
  const defaultResponses = grants.includes('authorization_code')
    ? ['code']
    : grants.includes('implicit')
      ? ['id_token', 'token']
      : [];
  const responses = list('response_types', defaultResponses).map((type) =>
    type.split(/\s+/).sort(responseOrder).join(' '),
  );
  const authMethod = str(
    'token_endpoint_auth_method',
    applicationType === 'browser' ? 'none' : 'client_secret_basic',
  )!;
  if (!authMethods.includes(authMethod as never)) {
    problems.push({
      field: 'token_endpoint_auth_method',
      message: `'token_endpoint_auth_method' must be one of ${authMethods.join(', ')}`,
    });
  }
  // Seed 001: clients registered through the clients endpoint default to REQUIRED consent.
  const consentMethod = str('consent_method', 'REQUIRED')!;
  if (!consentMethods.includes(consentMethod as never))
    problems.push({
      field: 'consent_method',
      message: "'consent_method' must be TRUSTED or REQUIRED",
    });

  for (const type of responses) {
    if (!responseTypes.includes(type as never))
      problems.push({
        field: 'response_types',
        message: `'${type}' is not a supported response type`,
      });
    else if (type.split(' ').includes('code') && !grants.includes('authorization_code')) {
      problems.push({
        field: 'response_types',
        message: `'${type}' needs the authorization_code grant type`,
      });
    } else if (
      /token/.test(type.replace('code', '')) &&
      !grants.includes('implicit') &&
      // Okta registers its service apps with response_types ["token"] (a client credentials grant
      // answers a token); it grants nothing at /authorize, which needs the implicit grant type too.
      !(applicationType === 'service' && type === 'token')
    ) {
      problems.push({
        field: 'response_types',
        message: `'${type}' needs the implicit grant type`,
      });
    }
  }
  if (
    grants.includes('refresh_token') &&
    !grants.includes('authorization_code') &&
    !grants.includes(deviceCodeGrant)
  ) {
    problems.push({
      field: 'grant_types',
      message: `'refresh_token' needs the authorization_code or ${deviceCodeGrant} grant type`,
    });
  }
  if (grants.includes(deviceCodeGrant) && applicationType !== 'native') {
    problems.push({
      field: 'grant_types',
      message: `only a native application can use the '${deviceCodeGrant}' grant type`,
    });
  }
  if (
    applicationType === 'service' &&
    grants.some((g) => g !== 'client_credentials' && g !== tokenExchangeGrantType)
  ) {
    problems.push({
      field: 'grant_types',
      message: `a service application can only use the 'client_credentials' and '${tokenExchangeGrantType}' grant types`,
    });
  }
  // Okta: a service exchanging a user's token (on-behalf-of), or a native app (Native SSO); a
  // browser application keeps no secret a device could share.
  if (applicationType === 'browser' && grants.includes(tokenExchangeGrantType)) {
    problems.push({
      field: 'grant_types',
      message: `a browser application cannot use the '${tokenExchangeGrantType}' grant type`,
    });
  }
  if (
    applicationType !== 'service' &&
    grants.includes('client_credentials') &&
    applicationType !== 'web'
  ) {
    problems.push({
      field: 'grant_types',
      message: `a ${applicationType} application cannot use the 'client_credentials' grant type`,
    });
  }
  if (applicationType === 'browser' && authMethod !== 'none') {
    problems.push({
      field: 'token_endpoint_auth_method',
      message: "a browser application is public: 'token_endpoint_auth_method' must be none",
    });
  }
  if ((applicationType === 'service' || applicationType === 'web') && authMethod === 'none') {
    problems.push({
      field: 'token_endpoint_auth_method',
      message: `a ${applicationType} application must authenticate: 'none' is not allowed`,
    });
  }

  const needsRedirect = grants.includes('authorization_code') || grants.includes('implicit');
  const redirects = list('redirect_uris', []);
  if (needsRedirect && redirects.length === 0 && !mistyped.has('redirect_uris'))
    problems.push({
      field: 'redirect_uris',
      message: "'redirect_uris' is required for the authorization_code and implicit grant types",
    });
  for (const uri of redirects)
    problems.push(...checkRedirectUri('redirect_uris', uri, applicationType));
  const logoutRedirects = list('post_logout_redirect_uris', []);
  for (const uri of logoutRedirects)
    problems.push(...checkRedirectUri('post_logout_redirect_uris', uri, applicationType));

  // The keys a private_key_jwt client signs its assertions with: inline, or where it publishes them.
  // An empty jwks_uri is no URI, as the metadata keeps "none".
  const jwksGiven = input.jwks !== undefined && input.jwks !== null;
  const jwksUri = str('jwks_uri', '')!;
  let jwks = '';
  if (authMethod !== 'private_key_jwt') {
    for (const [field, given] of [
      ['jwks', jwksGiven],
      ['jwks_uri', jwksUri !== ''],
    ] as const)
      if (given)
        problems.push({ field, message: `'${field}' is only for private_key_jwt clients` });
  } else if (jwksGiven && jwksUri !== '') {
    problems.push({
      field: 'jwks',
      message: "a private_key_jwt client gives 'jwks' or 'jwks_uri', not both",
    });
  } else if (jwksGiven) {
    const read = readJwkSet('jwks', input.jwks);
    problems.push(...read.problems);
    jwks = read.jwks ?? '';
  } else if (jwksUri !== '') {
    problems.push(...checkJwksUri('jwks_uri', jwksUri));
  } else if (!mistyped.has('jwks_uri')) {
    problems.push({
      field: 'jwks',
      message: "a private_key_jwt client must give its public keys, in 'jwks' or at 'jwks_uri'",
    });
  }

  // RFC 9126 section 6: the client's authorization requests must be pushed first.
  const requirePar = input.require_pushed_authorization_requests ?? false;
  if (typeof requirePar !== 'boolean')
    problems.push({
      field: 'require_pushed_authorization_requests',
      message: "'require_pushed_authorization_requests' must be true or false",
    });
  else if (requirePar && !grants.includes('authorization_code') && !grants.includes('implicit'))
    problems.push({
      field: 'require_pushed_authorization_requests',
      message:
        "'require_pushed_authorization_requests' is for clients of the authorization endpoint (authorization_code or implicit)",
    });

  // RFC 9449 section 5.2: every token request of the client must carry a DPoP proof.
  const dpopBound = input.dpop_bound_access_tokens ?? false;
  if (typeof dpopBound !== 'boolean')
    problems.push({
      field: 'dpop_bound_access_tokens',
      message: "'dpop_bound_access_tokens' must be true or false",
    });

  if (problems.length > 0) return { problems };
  return {
    problems,
    metadata: {
      clientName: clientName!,
      redirectUris: redirects,
      postLogoutRedirectUris: logoutRedirects,
      responseTypes: responses,
      grantTypes: grants,
      tokenEndpointAuthMethod: authMethod,
      applicationType,
      consentMethod,
      jwks,
      jwksUri,
      requirePushedAuthorizationRequests: requirePar === true,
      dpopBoundAccessTokens: dpopBound === true,
    },
  };
}

function responseOrder(a: string, b: string): number {
  const order = ['code', 'id_token', 'token'];
  return order.indexOf(a) - order.indexOf(b);
}

/**
 * A redirect URI must be absolute and have no fragment (RFC 6749 section 3.1.2). https always; http
 * only to a loopback host; a native app may also use a private-use scheme (RFC 8252 section 7.1).
 */
export function checkRedirectUri(
  field: string,
  uri: string,
  applicationType: string,
): FieldProblem[] {
  const bad = (why: string) => [{ field, message: `'${uri.slice(0, 200)}' ${why}` }];
  if (uri.length > 1024) return bad('is longer than 1024 characters');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return bad('is not an absolute URI');
  }
  if (url.hash || uri.includes('#')) return bad('must not contain a fragment');
  const loopback = loopbackHosts.includes(url.hostname);
  if (url.protocol === 'https:') return [];
  if (url.protocol === 'http:')
    return loopback ? [] : bad('must use https (http is allowed only for localhost)');
  if (applicationType === 'native' && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol))
    return [];
  return bad(
    applicationType === 'native'
      ? 'must use https, http on localhost, or a reverse-domain private-use scheme'
      : 'must use https',
  );
}

/**
 * Where a private_key_jwt client publishes its keys: fetched by the token endpoint, so absolute,
 * with no fragment and no credentials in it; https, or http only to a loopback host (for
 * development, as redirect URIs allow).
 */
export function checkJwksUri(field: string, uri: string): FieldProblem[] {
  const bad = (why: string) => [{ field, message: `'${field}' ${why}` }];
  if (uri.length > 1024) return bad('must be at most 1024 characters');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return bad('must be an absolute URI');
  }
  if (url.hash || uri.includes('#')) return bad('must not contain a fragment');
  if (url.username || url.password) return bad('must not contain a user name or password');
  if (url.protocol === 'https:') return [];
  if (url.protocol === 'http:' && loopbackHosts.includes(url.hostname)) return [];
  return bad(
    url.protocol === 'http:'
      ? 'must use https (http is allowed only for localhost)'
      : 'must use https',
  );
}
