// Reading an authorization request (seed 000's parameter table, OIDC Core 3.1.2.1, RFC 7636) in the
// order that decides where its errors go: before the client and its redirect URI are known to be
// good, an error is shown on a page and never sent anywhere (RFC 6749 section 4.1.2.1); after, it
// goes back to the client in the response mode the request asked for (or the default one).
import { type ClientView, responseTypes } from '@gatehouse/directory';

export const responseModes = ['query', 'fragment', 'form_post', 'okta_post_message'] as const;
export type ResponseMode = (typeof responseModes)[number];
export type PromptValue = 'none' | 'login' | 'consent';

/** A request that passed every check that needs no user; what the transaction keeps. */
export interface AuthorizationRequest {
  tenant: string;
  /** "org" for the org authorization server. */
  serverId: string;
  clientId: string;
  redirectUri: string;
  /** The response type's words, in the canonical order code, id_token, token. */
  responseType: string[];
  responseMode: ResponseMode;
  scopes: string[];
  state?: string;
  nonce?: string;
  prompt: PromptValue[];
  /** seconds */
  maxAge?: number;
  loginHint?: string;
  codeChallenge?: string;
}

/** Where an error goes: a page (nothing known to be safe to redirect to), or back to the client. */
export type RequestProblem =
  | { to: 'page'; status: number; error: string; description: string }
  | {
      to: 'client';
      error: string;
      description: string;
      redirectUri: string;
      responseMode: ResponseMode;
      state?: string;
    };

const responseWords = ['code', 'id_token', 'token'] as const;
/** The response types of seed 000, each as its canonical words. */
const knownResponseTypes = new Set<string>(responseTypes);

export const canonicalResponseType = (value: string): string[] | undefined => {
  const words = value.split(' ');
  if (words.some((word) => !responseWords.includes(word as never))) return undefined;
  if (new Set(words).size !== words.length) return undefined;
  const canonical = responseWords.filter((word) => words.includes(word));
  return knownResponseTypes.has(canonical.join(' ')) ? canonical : undefined;
};

/** Code alone answers in the query; anything with a token answers in the fragment (seed 000). */
export const defaultResponseMode = (responseType: readonly string[]): ResponseMode =>
  responseType.length === 1 && responseType[0] === 'code' ? 'query' : 'fragment';

const maxLengths: Record<string, number> = {
  client_id: 100,
  redirect_uri: 2048,
  response_type: 40,
  response_mode: 40,
  scope: 1024,
  state: 2048,
  nonce: 512,
  prompt: 40,
  max_age: 12,
  login_hint: 256,
  code_challenge: 128,
  code_challenge_method: 10,
  idp: 100,
  sessionToken: 100,
  display: 20,
};

/** Scope tokens as RFC 6749 section 3.3 allows them: printable ASCII but space, `"` and `\`. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export interface RawParameters {
  values: Map<string, string>;
  /** Parameters given more than once. */
  repeated: Set<string>;
}

/** Reads a query string or form body; empty values count as absent (RFC 6749 section 3.1). */
export function readParameters(encoded: string): RawParameters {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of new URLSearchParams(encoded)) {
    if (values.has(name) || repeated.has(name)) repeated.add(name);
    if (value !== '') values.set(name, value);
  }
  return { values, repeated };
}

/** The checks that decide whether errors may be redirected: client and redirect URI. */
export function checkClient(
  raw: RawParameters,
  client: ClientView | undefined,
): { problem: RequestProblem } | { redirectUri: string } {
  const page = (status: number, error: string, description: string) => ({
    problem: { to: 'page', status, error, description } as RequestProblem,
  });
  for (const name of ['client_id', 'redirect_uri'])
    if (raw.repeated.has(name))
      return page(400, 'invalid_request', `The '${name}' parameter was sent more than once.`);
  const clientId = raw.values.get('client_id');
  if (!clientId) return page(400, 'invalid_request', "The 'client_id' parameter is required.");
  if (clientId.length > maxLengths.client_id! || client === undefined || client.status !== 'ACTIVE')
    return page(400, 'invalid_client', 'The client is unknown or not active.');
  const redirectUri = raw.values.get('redirect_uri');
  if (!redirectUri)
    return page(400, 'invalid_request', "The 'redirect_uri' parameter is required.");
  // Exact match, byte for byte (OAuth 2.0 Security BCP): no prefix, no normalisation.
  if (!client.metadata.redirectUris.includes(redirectUri))
    return page(
      400,
      'invalid_request',
      "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
    );
  return { redirectUri };
}

/**
 * Every check of the request that needs neither the user nor the authorization server's policy.
 * `orgId` is the tenant, the only identity provider Gatehouse knows (`idp`).
 */
export function readAuthorizationRequest(
  raw: RawParameters,
  context: { tenant: string; serverId: string; client: ClientView; redirectUri: string },
): { request: AuthorizationRequest } | { problem: RequestProblem } {
  const { values } = raw;
  const state = values.get('state');
  const stateOk = state === undefined || state.length <= maxLengths.state!;
  const responseType = canonicalResponseType(values.get('response_type') ?? '');
  const requestedMode = values.get('response_mode');
  const fallbackMode = responseType ? defaultResponseMode(responseType) : 'query';
  const modeKnown = requestedMode === undefined || responseModes.includes(requestedMode as never);
  let mode: ResponseMode = modeKnown
    ? ((requestedMode as ResponseMode | undefined) ?? fallbackMode)
    : fallbackMode;
  const refuse = (error: string, description: string) => ({
    problem: {
      to: 'client',
      error,
      description,
      redirectUri: context.redirectUri,
      responseMode: mode,
      ...(state !== undefined && stateOk ? { state } : {}),
    } as RequestProblem,
  });

  const [repeated] = raw.repeated;
  if (repeated !== undefined)
    return refuse('invalid_request', `The '${repeated}' parameter was sent more than once.`);
  for (const [name, max] of Object.entries(maxLengths)) {
    const value = values.get(name);
    if (value !== undefined && value.length > max)
      return refuse(
        name === 'scope' ? 'invalid_scope' : 'invalid_request',
        `The '${name}' parameter must be at most ${max} characters.`,
      );
  }
  if (values.has('request'))
    return refuse('request_not_supported', "The 'request' parameter is not supported.");
  if (values.has('request_uri'))
    return refuse('request_uri_not_supported', "The 'request_uri' parameter is not supported.");
  if (!values.has('response_type'))
    return refuse('invalid_request', "The 'response_type' parameter is required.");
  if (!responseType)
    return refuse(
      'unsupported_response_type',
      `The response type '${values.get('response_type')}' is not supported.`,
    );
  if (!modeKnown)
    return refuse(
      'unsupported_response_mode',
      `The response mode '${requestedMode}' is not supported.`,
    );
  if (mode === 'query' && responseType.some((word) => word !== 'code')) {
    mode = 'fragment';
    return refuse(
      'unsupported_response_mode',
      "The 'query' response mode cannot be used with a response type that returns tokens.",
    );
  }
  const { metadata } = context.client;
  const registered = new Set(
    metadata.responseTypes.map((type) => canonicalResponseType(type)?.join(' ')),
  );
  const needsImplicit = responseType.some((word) => word !== 'code');
  const needsCode = responseType.includes('code');
  if (
    !registered.has(responseType.join(' ')) ||
    (needsImplicit && !metadata.grantTypes.includes('implicit')) ||
    (needsCode && !metadata.grantTypes.includes('authorization_code'))
  )
    return refuse(
      'unauthorized_client',
      `The client is not allowed the response type '${responseType.join(' ')}'.`,
    );

  const scopeParameter = values.get('scope');
  if (!scopeParameter) return refuse('invalid_scope', "The 'scope' parameter is required.");
  const scopeList = scopeParameter.split(' ');
  if (scopeList.some((scope) => !scopeToken.test(scope)))
    return refuse('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
  let scopes = [...new Set(scopeList)];
  // Seed 001: offline_access needs a response type with code; without one it is ignored.
  if (!needsCode) scopes = scopes.filter((scope) => scope !== 'offline_access');
  if (responseType.includes('id_token') && !scopes.includes('openid'))
    return refuse('invalid_scope', "An ID token needs the 'openid' scope.");

  const nonce = values.get('nonce');
  if (responseType.includes('id_token') && nonce === undefined)
    return refuse(
      'invalid_request',
      "The 'nonce' parameter is required when an ID token comes from the authorization endpoint.",
    );
  if (!stateOk) return refuse('invalid_request', "The 'state' parameter is too long.");

  const prompt = (values.get('prompt') ?? '').split(' ').filter((value) => value !== '');
  if (
    prompt.some((value) => !['none', 'login', 'consent'].includes(value)) ||
    new Set(prompt).size !== prompt.length ||
    (prompt.includes('none') && prompt.length > 1)
  )
    return refuse(
      'invalid_request',
      "The 'prompt' parameter must be 'none', or 'login' and/or 'consent'.",
    );

  const maxAgeValue = values.get('max_age');
  if (maxAgeValue !== undefined && !/^\d{1,9}$/.test(maxAgeValue))
    return refuse('invalid_request', "The 'max_age' parameter must be a number of seconds.");

  const idp = values.get('idp');
  if (idp !== undefined && idp !== context.tenant)
    return refuse('invalid_request', `The identity provider '${idp}' is not known.`);

  const codeChallenge = values.get('code_challenge');
  const challengeMethod = values.get('code_challenge_method');
  if (needsCode) {
    if (codeChallenge === undefined && challengeMethod !== undefined)
      return refuse('invalid_request', "'code_challenge_method' needs a 'code_challenge'.");
    if (codeChallenge !== undefined) {
      if (challengeMethod !== 'S256')
        return refuse(
          'invalid_request',
          "The 'code_challenge_method' parameter must be 'S256'; 'plain' is not supported.",
        );
      if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))
        return refuse(
          'invalid_request',
          "The 'code_challenge' parameter must be the base64url SHA-256 of the code verifier.",
        );
    } else if (metadata.tokenEndpointAuthMethod === 'none')
      return refuse(
        'invalid_request',
        "PKCE is required for public clients: send 'code_challenge' and 'code_challenge_method'.",
      );
  }

  const loginHint = values.get('login_hint');
  return {
    request: {
      tenant: context.tenant,
      serverId: context.serverId,
      clientId: context.client.id,
      redirectUri: context.redirectUri,
      responseType,
      responseMode: mode,
      scopes,
      ...(state !== undefined ? { state } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
      prompt: prompt as PromptValue[],
      ...(maxAgeValue !== undefined ? { maxAge: Number(maxAgeValue) } : {}),
      ...(loginHint !== undefined ? { loginHint } : {}),
      ...(needsCode && codeChallenge !== undefined ? { codeChallenge } : {}),
    },
  };
}
