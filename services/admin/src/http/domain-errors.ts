// Domain errors to Okta management errors: the one place the admin edge maps between the two.
import { DomainError } from '@gatehouse/directory';
import { OktaApiError } from '@gatehouse/http';
import type { Middleware } from 'koa';

export function mapDomainErrors(): Middleware {
  return async (_ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      switch (error.kind) {
        case 'invalid':
          throw OktaApiError.validation(error.problems);
        case 'not_found':
          throw new OktaApiError(404, 'E0000007', `Not found: ${error.message}`);
        case 'invalid_state':
          throw OktaApiError.invalidState(error.message);
      }
    }
  };
}
