// GET and POST {org}/consent: the consent page for the scopes the flow asks about (seed 001), and its
// answer — the consent recorded and the request decided again, or access_denied to the client.
import type { TenancyConfig } from '@gatehouse/directory';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { AuthorizeFlow } from '../../authorize-flow.js';
import { consentPage, formTargets } from '../../pages/html.js';
import { clientName } from '../display-names.js';
import { checkCsrf, type Interactions } from '../interactions.js';
import { readForm } from '../parameters.js';
import { orgPath, sendPage } from '../responses.js';

export interface ConsentRoutesDeps {
  directory: DirectoryCache;
  store: ProjectionStore;
  engine: AuthorizeFlow;
  interactions: Interactions;
  tenancy: TenancyConfig;
}

export function consentRoutes(
  { directory, store, engine, interactions, tenancy }: ConsentRoutesDeps,
  /** Where the routes go; the service puts every page on one router. */
  router: Router = new Router(),
): Router {
  router.get('/consent', async (ctx) => {
    const transaction = await interactions.pendingTransaction(
      ctx,
      ctx.query.tx as string | undefined,
    );
    if (!transaction) return;
    const input = await interactions.continueWithSession(ctx, transaction);
    const outcome = await engine.decide(input);
    if (outcome.kind !== 'consent') return interactions.answer(ctx, outcome, transaction);
    const user = input.authentication
      ? await store.hget(`rm:user:${ctx.state.tenant}:${input.authentication.userId}`, 'profile')
      : null;
    sendPage(
      ctx,
      consentPage({
        action: `${orgPath(tenancy, ctx.state.tenant)}/consent`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(directory, ctx.state.tenant, transaction.request.clientId),
        userLogin: user ? ((JSON.parse(user) as { login?: string }).login ?? '') : '',
        scopes: outcome.scopes,
      }),
    );
  });

  router.post('/consent', async (ctx) => {
    const form = await readForm(ctx);
    if (!form) return;
    const transaction = await interactions.pendingTransaction(ctx, form.values.get('tx'));
    if (!transaction || !checkCsrf(ctx, transaction, form)) return;
    const input = await interactions.continueWithSession(ctx, transaction);
    const asked = await engine.decide(input);
    if (asked.kind !== 'consent') return interactions.answer(ctx, asked, transaction);
    if (form.values.get('decision') !== 'allow') {
      return interactions.answer(
        ctx,
        await engine.deny(transaction.request, 'The user did not allow the application access.'),
        transaction,
      );
    }
    await engine.recordConsent(
      input,
      asked.scopes.map((scope) => scope.name),
    );
    return interactions.answer(
      ctx,
      await engine.decide({ ...input, consented: true }),
      transaction,
    );
  });
  return router;
}
