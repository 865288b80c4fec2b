// OAuth 2.0 protocol errors: one base class, one subclass per error code Gatehouse answers with (its
// code and HTTP status fixed by the RFC that defines the code), and one function that writes the body
// `{error, error_description}` (`oauthErrorBody`). The edges that serialise them: `oauthErrors` and
// `oauthErrorReply` (oauth.ts), `oktaErrors` (koa.ts) and the userinfo service's Bearer edge.

/**
 * An OAuth 2.0 error: RFC 6749 section 5.2, RFC 6750 section 3.1 at a resource, RFC 7591 section
 * 3.2.2 for client registration. `description` is the public `error_description`. Throw one of the
 * subclasses below; the base stays constructible for codes that arrive as data (a gRPC trailer).
 */
export class OAuthError extends Error {
  override readonly name: string;
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Extra response headers, such as Retry-After or WWW-Authenticate. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${error}: ${description}`);
    this.name = new.target.name;
  }
}

/** The body of an OAuth error response (RFC 6749 section 5.2). Nothing else writes it. */
export function oauthErrorBody(error: OAuthError): { error: string; error_description: string } {
  return { error: error.error, error_description: error.description };
}

// RFC 6749 section 5.2: "The authorization server responds with an HTTP 400 (Bad Request) status
// code (unless specified otherwise)". Every code below answers 400 unless its comment says why not.

/**
 * invalid_request, RFC 6749 section 5.2: a parameter missing, repeated, malformed or unsupported.
 * 400; where HTTP has a truer status Okta answers with it under the same code, and so do we: 404 for
 * an unknown path or authorization server, 405 for a method, 413 for a body over the limit, and the
 * status of an Okta management error met at an OAuth endpoint.
 */
export class InvalidRequest extends OAuthError {
  constructor(description: string, status = 400) {
    super(status, 'invalid_request', description);
  }
}

/**
 * invalid_request for a method the path does not take: 405 with the Allow header RFC 9110 section
 * 15.5.6 requires (the methods the path takes).
 */
export class MethodNotAllowed extends OAuthError {
  constructor(allowed: readonly string[]) {
    super(405, 'invalid_request', `Use ${allowed.filter((m) => m !== 'HEAD').join(' or ')}.`, {
      Allow: allowed.join(', '),
    });
  }
}

/**
 * invalid_client, RFC 6749 section 5.2: client authentication failed. 401, which the section allows
 * always and requires, with a `WWW-Authenticate` challenge in `headers`, when the client
 * authenticated with the Authorization header.
 */
export class InvalidClient extends OAuthError {
  constructor(description: string, headers: Readonly<Record<string, string>> = {}) {
    super(401, 'invalid_client', description, headers);
  }
}

/** invalid_grant, RFC 6749 section 5.2: a code, refresh token or user that is no longer good. 400. */
export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_grant', description);
  }
}

/** unauthorized_client, RFC 6749 section 5.2: the client may not use this grant type. 400. */
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super(400, 'unauthorized_client', description);
  }
}

/** unsupported_grant_type, RFC 6749 section 5.2. 400. */
export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super(400, 'unsupported_grant_type', description);
  }
}

/** invalid_scope, RFC 6749 section 5.2: a scope unknown, malformed or beyond what was granted. 400. */
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_scope', description);
  }
}

/**
 * unsupported_token_type, RFC 7009 section 2.2.1: a token_type_hint /revoke does not know. 400, the
 * status RFC 6749 section 5.2 gives the errors RFC 7009 adds to its list.
 */
export class UnsupportedTokenType extends OAuthError {
  constructor(description: string) {
    super(400, 'unsupported_token_type', description);
  }
}

/**
 * invalid_dpop_proof, RFC 9449 sections 5 and 7.1: a request's DPoP proof is missing where it is
 * required, malformed, or does not match the request or the token. 400 at the token endpoint; a
 * resource answers it 401 under its DPoP challenge.
 */
export class InvalidDpopProof extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_dpop_proof', description);
  }
}

/**
 * use_dpop_nonce, RFC 9449 section 8: the proof must carry the nonce this server gives in the
 * `DPoP-Nonce` header (sent with the error); the client signs a new proof with it and retries. 400
 * (Okta's wording), 401 at a resource.
 */
export class UseDpopNonce extends OAuthError {
  constructor(nonce: string, description = 'Authorization server requires nonce in DPoP proof.') {
    super(400, 'use_dpop_nonce', description, { 'DPoP-Nonce': nonce });
  }
}

/**
 * access_denied, RFC 6749 section 4.1.2.1: defined for the authorization endpoint, where it travels
 * in a redirect and has no status of its own. At the token endpoint (no policy or rule allows the
 * request) Okta answers it with 400, and so do we.
 */
export class AccessDenied extends OAuthError {
  constructor(description: string) {
    super(400, 'access_denied', description);
  }
}

// RFC 8628 section 3.5: the device authorization grant's answers to a poll, each a 400.

/** authorization_pending: the user has not approved nor denied the device yet; poll again. */
export class AuthorizationPending extends OAuthError {
  constructor(description: string) {
    super(400, 'authorization_pending', description);
  }
}

/** slow_down: still pending, and polled faster than the interval; the interval grows by 5 s. */
export class SlowDown extends OAuthError {
  constructor(description: string) {
    super(400, 'slow_down', description);
  }
}

/** expired_token: the device code expired; the device must start a new authorization. */
export class ExpiredToken extends OAuthError {
  constructor(description: string) {
    super(400, 'expired_token', description);
  }
}

/**
 * temporarily_unavailable: RFC 6749 section 4.1.2.1 names it as the stand-in for a 503 that a
 * redirect cannot carry, so where a response can carry one it is a 503, with Retry-After (RFC 9110
 * section 10.2.3) saying when to try again.
 */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string, retryAfterSeconds = 1) {
    super(503, 'temporarily_unavailable', description, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

/**
 * server_error: RFC 6749 section 4.1.2.1 names it as the stand-in for a 500 that a redirect cannot
 * carry; a 500 elsewhere. The description is public: never an internal detail.
 */
export class ServerError extends OAuthError {
  constructor(description: string) {
    super(500, 'server_error', description);
  }
}

/**
 * invalid_token, RFC 6750 section 3.1: an access token expired, revoked, malformed or otherwise not
 * good at this resource. 401. The resource's edge adds the Bearer challenge (RFC 6750 section 3).
 */
export class InvalidToken extends OAuthError {
  constructor(description: string) {
    super(401, 'invalid_token', description);
  }
}

/** insufficient_scope, RFC 6750 section 3.1: the access token lacks the scope the resource needs. 403. */
export class InsufficientScope extends OAuthError {
  constructor(description: string) {
    super(403, 'insufficient_scope', description);
  }
}

/**
 * invalid_target, RFC 8693 section 2.2.2: the `audience` (or `resource`) a token exchange asks for
 * is not one this server issues tokens for. 400.
 */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_target', description);
  }
}

/** invalid_client_metadata, RFC 7591 section 3.2.2: a client metadata field is not acceptable. 400. */
export class InvalidClientMetadata extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_client_metadata', description);
  }
}

/** invalid_redirect_uri, RFC 7591 section 3.2.2: a redirect URI is not acceptable. 400. */
export class InvalidRedirectUri extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_redirect_uri', description);
  }
}
