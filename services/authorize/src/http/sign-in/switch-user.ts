// GET and POST {org}/switch-user: the question before a sessionToken of another user than the
// session's replaces the session (issue 16), and its answer — the other user's session, or a no to
// the client.
import type { TenancyConfig } from '@gatehouse/directory';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuthorizeFlow } from '../../authorize-flow.js';
import type { Authentication, FlowState, Transaction } from '../../flow-state.js';
import { formTargets } from '../../pages/html.js';
import { switchUserPage } from '../../pages/session-pages.js';
import { sessionCookie } from '../browser-cookies.js';
import { clientName, loginOf } from '../display-names.js';
import { checkCsrf, type Interactions } from '../interactions.js';
import { readForm } from '../parameters.js';
import { orgPath, sendPage, showError } from '../responses.js';

export interface SwitchUserRoutesDeps {
  directory: DirectoryCache;
  store: ProjectionStore;
  flow: FlowState;
  engine: AuthorizeFlow;
  interactions: Interactions;
  tenancy: TenancyConfig;
  now: () => number;
}

export function switchUserRoutes(
  { directory, store, flow, engine, interactions, tenancy, now }: SwitchUserRoutesDeps,
  /** Where the routes go; the service puts every page on one router. */
  router: Router = new Router(),
): Router {
  /** The transaction of a sessionToken waiting for the user's choice, in the browser it came to. */
  const pendingSwitch = async (ctx: Context, id: string | undefined) => {
    const transaction = await interactions.pendingTransaction(ctx, id);
    if (transaction && !transaction.switchTo) {
      showError(ctx, 400, 'invalid_request', 'There is no change of user to confirm.');
      return undefined;
    }
    return transaction as (Transaction & { switchTo: Authentication }) | undefined;
  };

  router.get('/switch-user', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const transaction = await pendingSwitch(ctx, ctx.query.tx as string | undefined);
    if (!transaction) return;
    const current = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    sendPage(
      ctx,
      switchUserPage({
        action: `${orgPath(tenancy, tenant)}/switch-user`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(directory, tenant, transaction.request.clientId),
        currentLogin: current ? await loginOf(store, tenant, current.userId) : undefined,
        nextLogin: await loginOf(store, tenant, transaction.switchTo.userId),
      }),
    );
  });

  router.post('/switch-user', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const form = await readForm(ctx);
    if (!form) return;
    const pending = await pendingSwitch(ctx, form.values.get('tx'));
    if (!pending || !checkCsrf(ctx, pending, form)) return;
    const { switchTo, ...transaction } = pending;
    if (form.values.get('decision') !== 'continue') {
      // The session stays; the app asked for the other user's sign-in, so it gets a no rather
      // than tokens of a user it did not ask for.
      return interactions.answer(
        ctx,
        await engine.deny(transaction.request, 'The user stayed signed in as the current user.'),
        transaction,
      );
    }
    await flow.endSession(tenant, ctx.cookies.get(sessionCookie));
    await interactions.startSession(ctx, switchTo);
    const signedIn: Transaction = { ...transaction, signedInAt: now() };
    await flow.saveTransaction(tenant, signedIn);
    const outcome = await engine.decide({
      request: transaction.request,
      authentication: switchTo,
      signedInNow: true,
      transaction: signedIn,
      browserSha256: transaction.browserSha256,
      requestId: ctx.state.requestId,
    });
    return interactions.answer(ctx, outcome, signedIn);
  });
  return router;
}
