// Okta's management API errors: `{errorCode, errorSummary, errorLink, errorId, errorCauses}`. One
// class, a factory per code, and one place that writes them (`oktaErrorBody`).
import { randomBytes } from 'node:crypto';

export interface ErrorCause {
  errorSummary: string;
}

export class OktaApiError extends Error {
  override readonly name = 'OktaApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorSummary: string,
    readonly errorCauses: readonly ErrorCause[] = [],
    /** Extra response headers, such as Retry-After or WWW-Authenticate. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${errorCode}: ${errorSummary}`);
  }

  /** E0000001: fields that break a rule; each cause names its field. */
  static validation(causes: readonly { field: string; message: string }[]): OktaApiError {
    const first = causes[0]?.field ?? 'request';
    return new OktaApiError(
      400,
      'E0000001',
      `Api validation failed: ${first}`,
      causes.map((c) => ({ errorSummary: `${c.field}: ${c.message}` })),
    );
  }

  /** E0000003: the body is not JSON. */
  static malformedBody(): OktaApiError {
    return new OktaApiError(400, 'E0000003', 'The request body was not well-formed.');
  }

  /** E0000001 with 413: the body is over the limit. */
  static bodyTooLarge(limitBytes: number): OktaApiError {
    return new OktaApiError(413, 'E0000001', 'Api validation failed: body', [
      { errorSummary: `body: must be at most ${limitBytes} bytes` },
    ]);
  }

  /** E0000021: the body is not declared as JSON. */
  static unsupportedMediaType(): OktaApiError {
    return new OktaApiError(
      415,
      'E0000021',
      'Bad request. Accept and/or Content-Type headers likely do not match supported values.',
    );
  }

  /** E0000007: no such resource. */
  static notFound(type: string, id: string): OktaApiError {
    return new OktaApiError(404, 'E0000007', `Not found: Resource not found: ${id} (${type})`);
  }

  /** E0000008: no such path. */
  static pathNotFound(): OktaApiError {
    return new OktaApiError(404, 'E0000008', 'The requested path was not found');
  }

  /** E0000022: the path exists, not with this method. */
  static methodNotAllowed(allowed: readonly string[]): OktaApiError {
    return new OktaApiError(
      405,
      'E0000022',
      'The endpoint does not support the provided HTTP method',
      [],
      {
        Allow: allowed.join(', '),
      },
    );
  }

  /** E0000011: missing, malformed or unknown API token. */
  static invalidToken(): OktaApiError {
    return new OktaApiError(401, 'E0000011', 'Invalid token provided');
  }

  /** E0000006: a valid token without the right to do this. */
  static forbidden(): OktaApiError {
    return new OktaApiError(
      403,
      'E0000006',
      'You do not have permission to perform the requested action',
    );
  }

  /** E0000038: the resource's status does not allow the operation. */
  static invalidState(summary: string): OktaApiError {
    return new OktaApiError(403, 'E0000038', summary);
  }

  /**
   * 409 E0000112, Okta's "try again" conflict: every attempt of the change lost its race with
   * concurrent changes of the same object, so none was applied.
   */
  static conflict(summary: string): OktaApiError {
    return new OktaApiError(409, 'E0000112', summary, [], { 'Retry-After': '1' });
  }

  /**
   * 503: the change could not be made or shown in time (event log or projector unavailable). The
   * caller may retry; for an append that was acknowledged the summary says the change will apply.
   */
  static unavailable(summary: string, retryAfterSeconds = 1): OktaApiError {
    return new OktaApiError(503, 'E0000009', summary, [], {
      'Retry-After': String(retryAfterSeconds),
    });
  }

  /**
   * 429 E0000047: a request budget is spent. `headers` are Okta's X-Rate-Limit-* and Retry-After.
   */
  static rateLimited(headers: Readonly<Record<string, string>>): OktaApiError {
    return new OktaApiError(
      429,
      'E0000047',
      'API call exceeded rate limit due to too many requests.',
      [],
      headers,
    );
  }

  /** E0000009: anything unexpected. Never carries the internal detail. */
  static internal(): OktaApiError {
    return new OktaApiError(500, 'E0000009', 'Internal Server Error');
  }
}

const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An Okta-style error id (`oae` + 22 characters), logged with the error so the two can be matched. */
export function newErrorId(): string {
  const bytes = randomBytes(22);
  let id = 'oae';
  for (const byte of bytes) id += idAlphabet[byte % idAlphabet.length];
  return id;
}

export function oktaErrorBody(error: OktaApiError, errorId: string) {
  return {
    errorCode: error.errorCode,
    errorSummary: error.errorSummary,
    errorLink: error.errorCode,
    errorId,
    errorCauses: error.errorCauses.map((cause) => ({ errorSummary: cause.errorSummary })),
  };
}
