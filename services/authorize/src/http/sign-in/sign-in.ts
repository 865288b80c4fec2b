// GET and POST {org}/login: the hosted sign-in page of a pending transaction, and its answer — a
// session, then the flow's decision for the transaction's request.
import type { TenancyConfig } from '@gatehouse/directory';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import Router from '@koa/router';
import type { AuthorizeFlow } from '../../authorize-flow.js';
import type { Authentication, FlowState, Transaction } from '../../flow-state.js';
import { formTargets, loginPage } from '../../pages/html.js';
import { clientName } from '../display-names.js';
import { checkCsrf, type Interactions } from '../interactions.js';
import { readForm } from '../parameters.js';
import { orgPath, sendPage } from '../responses.js';
import type { SignInAttempts } from '../sign-in-attempts.js';

export interface SignInRoutesDeps {
  directory: DirectoryCache;
  flow: FlowState;
  engine: AuthorizeFlow;
  interactions: Interactions;
  signIns: SignInAttempts;
  tenancy: TenancyConfig;
  now: () => number;
}

export function signInRoutes(
  { directory, flow, engine, interactions, signIns, tenancy, now }: SignInRoutesDeps,
  /** Where the routes go; the service puts every page on one router. */
  router: Router = new Router(),
): Router {
  router.get('/login', async (ctx) => {
    const transaction = await interactions.pendingTransaction(
      ctx,
      ctx.query.tx as string | undefined,
    );
    if (!transaction) return;
    sendPage(
      ctx,
      loginPage({
        action: `${orgPath(tenancy, ctx.state.tenant)}/login`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(directory, ctx.state.tenant, transaction.request.clientId),
        ...(transaction.request.loginHint ? { username: transaction.request.loginHint } : {}),
      }),
    );
  });

  router.post('/login', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const form = await readForm(ctx);
    if (!form) return;
    const transaction = await interactions.pendingTransaction(ctx, form.values.get('tx'));
    if (!transaction || !checkCsrf(ctx, transaction, form)) return;
    const username = (form.values.get('username') ?? '').slice(0, 256);
    const password = (form.values.get('password') ?? '').slice(0, 1024);
    const again = async (message: string, status: number) =>
      sendPage(
        ctx,
        loginPage({
          action: `${orgPath(tenancy, tenant)}/login`,
          formAction: formTargets(transaction.request.redirectUri),
          transactionId: transaction.id,
          csrf: transaction.csrf,
          clientName: await clientName(directory, tenant, transaction.request.clientId),
          username,
          message,
          status,
        }),
      );
    const attempt = await signIns.fromForm(ctx, tenant, username, password);
    if ('message' in attempt) return again(attempt.message, attempt.status);
    const authentication: Authentication = {
      userId: attempt.user.id,
      authTime: Math.floor(now() / 1000),
      amr: ['pwd'],
    };
    await interactions.startSession(ctx, authentication);
    const signedIn: Transaction = { ...transaction, signedInAt: now() };
    await flow.saveTransaction(tenant, signedIn);
    const outcome = await engine.decide({
      request: transaction.request,
      authentication,
      signedInNow: true,
      transaction: signedIn,
      browserSha256: transaction.browserSha256,
      requestId: ctx.state.requestId,
    });
    return interactions.answer(ctx, outcome, signedIn);
  });
  return router;
}
