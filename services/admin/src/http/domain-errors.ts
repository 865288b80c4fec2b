// Domain errors and command outcomes to Okta management errors: the one place the admin edge maps
// between them.
import { DomainError } from '@gatehouse/directory';
import { EventTooLargeError } from '@gatehouse/event-bus';
import { OktaApiError } from '@gatehouse/http';
import {
  CommandConflictError,
  CommandNotAppendedError,
  CommandOutcomeUnknownError,
} from '@gatehouse/projections';
import type { Middleware } from 'koa';

/**
 * What became of a change that failed on the way to the log or the projector, for the idempotency
 * middleware: `unchanged` (nothing was appended, nothing will be) or `in-doubt` (the attempt may
 * apply; its verdict is under the command's outcome key).
 */
export type CommandFailure =
  | { kind: 'unchanged' }
  | { kind: 'in-doubt'; command?: { tenant: string; commandId: string } };

export function mapDomainErrors(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      // Refused before anything was sent: nothing was appended, and sending it again will not help.
      if (error instanceof EventTooLargeError)
        ctx.state.commandFailure = { kind: 'unchanged' } satisfies CommandFailure;
      if (error instanceof CommandNotAppendedError || error instanceof CommandOutcomeUnknownError)
        ctx.state.commandFailure = (
          error instanceof CommandNotAppendedError && !error.mayHaveBeenAppended
            ? { kind: 'unchanged' }
            : { kind: 'in-doubt', ...(error.command ? { command: error.command } : {}) }
        ) satisfies CommandFailure;
      throw oktaErrorOf(error);
    }
  };
}

function oktaErrorOf(error: unknown): unknown {
  if (error instanceof DomainError) {
    switch (error.kind) {
      case 'invalid':
        return OktaApiError.validation(error.problems);
      case 'not_found':
        return new OktaApiError(404, 'E0000007', `Not found: ${error.message}`);
      case 'invalid_state':
        return OktaApiError.invalidState(error.message);
      case 'forbidden':
        return OktaApiError.forbidden();
    }
  }
  if (error instanceof EventTooLargeError)
    return OktaApiError.validation([
      {
        field: 'request',
        message: `The change is too large to record: its event takes ${error.bytes} bytes, more than the ${error.maxBytes} the event log takes at once. Nothing was changed.`,
      },
    ]);
  if (error instanceof CommandConflictError)
    return OktaApiError.conflict(
      'The object was changed by other requests at the same time, again and again; this change was not applied. Try again.',
    );
  if (error instanceof CommandNotAppendedError)
    return OktaApiError.unavailable(
      error.mayHaveBeenAppended
        ? 'The change could not be confirmed in time: the event log did not answer. It may still be recorded and applied; check before trying again.'
        : 'The change could not be recorded: the event log is unavailable. Nothing was changed; try again.',
    );
  if (error instanceof CommandOutcomeUnknownError)
    return OktaApiError.unavailable(
      'The change was recorded but is not applied yet: the projector is behind. It applies unless a concurrent change of the same object came first; check before trying again.',
    );
  return error;
}
