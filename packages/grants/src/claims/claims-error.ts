// Why a token could not be given its claims: the request fails with an OAuth error, which the HTTP
// edges of the token and authorize services serialise.

export type ClaimsErrorCode =
  /**
   * A groups claim matched more groups than a token may carry (seed 001: more than 100 fails the
   * request). The seeds give no error code; Okta's description ("The groups claim matched too many
   * groups and must be configured to match fewer groups") is kept, under invalid_request: the
   * request cannot be honoured as configured, and nothing failed unexpectedly (server_error).
   */
  | 'invalid_request'
  /** A claim definition Gatehouse will not evaluate (a group filter that could run away). */
  | 'server_error';

export class ClaimsError extends Error {
  override readonly name = 'ClaimsError';
  constructor(
    readonly error: ClaimsErrorCode,
    /** error_description: for the client and the administrator who can fix the claim. */
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}
