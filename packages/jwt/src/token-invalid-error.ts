// The one error verification throws: a `reason` callers may branch on (and map to `invalid_token`
// at the edge) and a message that is an internal detail, never shown to the token's presenter.

export type TokenInvalidReason =
  | 'malformed'
  | 'algorithm'
  | 'unknown_kid'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim';

export class TokenInvalidError extends Error {
  override readonly name = 'TokenInvalidError';
  readonly reason: TokenInvalidReason;

  constructor(reason: TokenInvalidReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
