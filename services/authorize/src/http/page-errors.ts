// Errors on the browser-facing paths (everything but the JSON API): a page in OAuth's words, a 404
// page for a path no route answered, and a logged server_error with its id for anything unexpected.
import { type EdgeLog, logUnexpected, OAuthError } from '@gatehouse/http';
import { ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import type Koa from 'koa';
import { showError } from './responses.js';

export function pageErrors(log: EdgeLog): Koa.Middleware {
  return async (ctx, next) => {
    try {
      if (!ctx.state.tenant)
        return showError(ctx, 404, 'invalid_request', 'There is no such page.');
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        showError(ctx, 404, 'invalid_request', 'There is no such page.');
    } catch (caught) {
      if (caught instanceof OAuthError && caught.status < 500) {
        for (const [name, value] of Object.entries(caught.headers)) ctx.set(name, value);
        return showError(ctx, caught.status, caught.error, caught.description);
      }
      if (caught instanceof OAuthError && caught.error === 'temporarily_unavailable')
        return showError(ctx, 503, caught.error, caught.description);
      if (caught instanceof ProjectionStoreUnavailableError)
        return showError(
          ctx,
          503,
          'temporarily_unavailable',
          'The server is temporarily unavailable; try again shortly.',
        );
      const errorId = logUnexpected(log, ctx, caught);
      showError(
        ctx,
        500,
        'server_error',
        `Something went wrong on our side (${errorId}). Try again shortly.`,
      );
    }
  };
}
