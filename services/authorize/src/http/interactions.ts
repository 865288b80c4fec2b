// What /authorize shares with the pages it sends the browser to (sign-in, consent, switch-user): the
// browser's session, the transaction a page continues, and the answer to each outcome of the flow.
import type { TenancyConfig } from '@gatehouse/directory';
import type { Context } from 'koa';
import type { AuthorizeFlow, FlowInput, Outcome } from '../authorize-flow.js';
import type { Authentication, FlowState, Transaction } from '../flow-state.js';
import {
  type BrowserCookies,
  browserCookie,
  sameSecret,
  sessionCookie,
  sha256,
} from './browser-cookies.js';
import type { RawParameters } from './parameters.js';
import { deliver, orgPath, redirect, showError } from './responses.js';

export interface InteractionsDeps {
  flow: FlowState;
  engine: AuthorizeFlow;
  cookies: BrowserCookies;
  tenancy: TenancyConfig;
}

export class Interactions {
  constructor(private readonly deps: InteractionsDeps) {}

  /** Turns an outcome of the flow into a response: to the client, or to the page it needs. */
  async answer(ctx: Context, outcome: Outcome, transaction?: Transaction): Promise<void> {
    const { flow, cookies, tenancy } = this.deps;
    const tenant = ctx.state.tenant as string;
    switch (outcome.kind) {
      case 'respond':
        if (transaction) await flow.endTransaction(tenant, transaction.id);
        return deliver(ctx, outcome.target, outcome.params);
      case 'login':
        return redirect(
          ctx,
          `${orgPath(tenancy, tenant)}/login?tx=${encodeURIComponent(outcome.transaction.id)}`,
        );
      case 'consent':
        return redirect(
          ctx,
          `${orgPath(tenancy, tenant)}/consent?tx=${encodeURIComponent(outcome.transaction.id)}`,
        );
      case 'page':
        return showError(ctx, outcome.status, outcome.error, outcome.description);
      case 'end-session':
        await flow.endSession(tenant, ctx.cookies.get(sessionCookie));
        cookies.set(ctx, sessionCookie, '', 0);
        return this.answer(ctx, outcome.next, transaction);
    }
  }

  async startSession(ctx: Context, authentication: Authentication): Promise<void> {
    const { flow, cookies } = this.deps;
    const sid = await flow.newSession(ctx.state.tenant, authentication);
    cookies.set(ctx, sessionCookie, sid, Math.floor(flow.options.sessionLifetimeMs / 1000));
  }

  /** The transaction a sign-in or consent form continues; only in the browser that started it. */
  async pendingTransaction(ctx: Context, id: string | undefined): Promise<Transaction | undefined> {
    const tenant = ctx.state.tenant as string;
    const transaction = await this.deps.flow.transaction(tenant, id);
    const browser = ctx.cookies.get(browserCookie);
    if (!transaction || !browser || sha256(browser) !== transaction.browserSha256) {
      showError(
        ctx,
        400,
        'invalid_request',
        'This sign-in has expired or was started in another browser. Go back to the application and sign in again.',
      );
      return undefined;
    }
    return transaction;
  }

  /** Continues a transaction with the browser's session (the consent page's two steps). */
  async continueWithSession(ctx: Context, transaction: Transaction): Promise<FlowInput> {
    const session = await this.deps.flow.session(ctx.state.tenant, ctx.cookies.get(sessionCookie));
    return {
      request: transaction.request,
      authentication: session,
      signedInNow: transaction.signedInAt !== undefined,
      transaction,
      browserSha256: transaction.browserSha256,
      requestId: ctx.state.requestId,
    };
  }
}

/** The form's CSRF token is the transaction's; else a 403 page. */
export const checkCsrf = (ctx: Context, transaction: Transaction, form: RawParameters) => {
  const csrf = form.values.get('csrf') ?? '';
  if (sameSecret(csrf, transaction.csrf)) return true;
  showError(
    ctx,
    403,
    'invalid_request',
    'The form could not be verified. Go back to the application and sign in again.',
  );
  return false;
};
