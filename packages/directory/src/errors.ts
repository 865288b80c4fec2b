// Domain errors: what a decider refuses, in the domain's words. The HTTP edges map them to Okta's
// management errors (admin) or OAuth errors (token, authorize) in one place each.

export interface FieldProblem {
  /** The request field at fault, as the API names it (`id`, `profile.login`, ...). */
  field: string;
  message: string;
}

export type DomainErrorKind =
  /** The command's input breaks a rule; `problems` names the fields. */
  | 'invalid'
  /** The aggregate does not exist. */
  | 'not_found'
  /** The aggregate's current state does not allow the command. */
  | 'invalid_state'
  /** Nobody may do this to the aggregate (Okta's built-ins). */
  | 'forbidden';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
  }

  static invalid(problems: readonly FieldProblem[]): DomainError {
    return new DomainError(
      'invalid',
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
  }
}
