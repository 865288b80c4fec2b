// GET and POST {org}/activate: the hosted device verification page (RFC 8628 section 3.3). A user
// without a session signs in on the sign-in form first (the same form, attempts budgets and lockout
// as /login), then enters the user code (prefilled from verification_uri_complete's `user_code`),
// sees which application asks for what, and allows or denies it. One URL, a `step` field per form;
// every form carries the browser's CSRF token. Codes entered are budgeted per source address and
// per session, so that nobody can try user codes in bulk (RFC 8628 section 5.1).
import { randomBytes } from 'node:crypto';
import type { TenancyConfig } from '@gatehouse/directory';
import { rateLimited, rateLimitHeaders, sourceAddress, type TrustedProxies } from '@gatehouse/http';
import type { DirectoryCache } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { RateLimiter } from '@gatehouse/rate-limits';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type {
  DeviceAuthorizations,
  DeviceVerdict,
  PendingDevice,
} from '../../device-authorizations.js';
import { type Authentication, type FlowState, flowKeys } from '../../flow-state.js';
import { deviceConsentPage, deviceDonePage, userCodePage } from '../../pages/device-pages.js';
import { loginPage, type Page } from '../../pages/html.js';
import {
  type BrowserCookies,
  browserCookie,
  sameSecret,
  sessionCookie,
  sha256,
} from '../browser-cookies.js';
import { clientName, loginOf } from '../display-names.js';
import type { Interactions } from '../interactions.js';
import { readForm } from '../parameters.js';
import { orgPath, redirect, sendPage, showError } from '../responses.js';
import type { SignInAttempts } from '../sign-in-attempts.js';
import { activatePath } from './device-authorization.js';

export interface ActivateRoutesDeps {
  directory: DirectoryCache;
  store: ProjectionStore;
  flow: FlowState;
  devices: DeviceAuthorizations;
  interactions: Interactions;
  cookies: BrowserCookies;
  signIns: SignInAttempts;
  limiter: RateLimiter;
  trustedProxies: TrustedProxies;
  tenancy: TenancyConfig;
  now: () => number;
}

/** How long the page's CSRF token lasts without the page being shown again. */
const csrfLifetimeMs = 30 * 60_000;

const wrongCode =
  'That code is not right, or it has expired. Check the code your device shows and enter it again.';

export function activateRoutes(deps: ActivateRoutesDeps, router: Router): Router {
  const { directory, store, flow, devices, interactions, cookies, tenancy, now } = deps;
  const action = (tenant: string) => `${orgPath(tenancy, tenant)}${activatePath}`;

  /** The browser's CSRF token for the page's forms (kept while the page is in use). */
  const csrfOf = async (ctx: Context): Promise<string> => {
    const key = flowKeys.activateCsrf(ctx.state.tenant, cookies.browserOf(ctx));
    const kept = await store.get(key);
    const csrf = kept ?? randomBytes(32).toString('base64url');
    await store.set(key, csrf, { ttlMs: csrfLifetimeMs });
    return csrf;
  };

  /** The form's CSRF token is the browser's; else a 403 page. */
  const csrfChecked = async (ctx: Context, sent: string | undefined): Promise<boolean> => {
    const browser = ctx.cookies.get(browserCookie);
    const kept = browser
      ? await store.get(flowKeys.activateCsrf(ctx.state.tenant, sha256(browser)))
      : null;
    if (kept !== null && sameSecret(sent ?? '', kept)) return true;
    showError(
      ctx,
      403,
      'invalid_request',
      'The form could not be verified. Open the activation page again.',
    );
    return false;
  };

  const signInPage = (
    ctx: Context,
    csrf: string,
    userCode: string,
    extra: { username?: string; message?: string; status?: number } = {},
  ): Page =>
    loginPage({
      action: action(ctx.state.tenant),
      formAction: "'self'",
      csrf,
      clientName: 'activate your device',
      fields: { step: 'sign-in', user_code: userCode },
      ...extra,
    });

  const codePage = async (
    ctx: Context,
    csrf: string,
    session: Authentication,
    userCode: string,
    problem?: { message: string; status: number },
  ): Promise<Page> =>
    userCodePage({
      action: action(ctx.state.tenant),
      csrf,
      userCode,
      userLogin: await loginOf(store, ctx.state.tenant, session.userId),
      ...(problem ? problem : {}),
    });

  /** Counts a code entered, per source and per session; false (a 429 page sent) once spent. */
  const withinBudget = async (
    ctx: Context,
    csrf: string,
    session: Authentication,
    userCode: string,
  ): Promise<boolean> => {
    const tenant = ctx.state.tenant as string;
    const sid = ctx.cookies.get(sessionCookie) ?? '';
    const [bySource, bySession] = await Promise.all([
      deps.limiter.take(tenant, 'userCodeSource', sourceAddress(ctx.req, deps.trustedProxies)),
      deps.limiter.take(tenant, 'userCodeSession', sha256(sid)),
    ]);
    const spent = !bySource.allowed ? bySource : !bySession.allowed ? bySession : undefined;
    ctx.set(rateLimitHeaders(spent ?? bySession));
    if (!spent) return true;
    const refusal = rateLimited(spent, now());
    for (const [name, value] of Object.entries(refusal.headers)) ctx.set(name, value);
    sendPage(
      ctx,
      await codePage(ctx, csrf, session, userCode, {
        message: 'Too many codes entered right now. Wait a minute, then try again.',
        status: 429,
      }),
    );
    return false;
  };

  /** The pending device a code names and the user's verdict on it; else the code page again. */
  const deviceFor = async (ctx: Context, csrf: string, session: Authentication, typed: string) => {
    const tenant = ctx.state.tenant as string;
    const device = await devices.pending(tenant, typed);
    if (!device) {
      sendPage(ctx, await codePage(ctx, csrf, session, typed, { message: wrongCode, status: 400 }));
      return undefined;
    }
    const verdict = await devices.verdict(tenant, device.record, session);
    if (!verdict.allowed) {
      sendPage(
        ctx,
        await codePage(ctx, csrf, session, typed, { message: verdict.description, status: 403 }),
      );
      return undefined;
    }
    return { device, verdict };
  };

  const confirmation = async (
    ctx: Context,
    csrf: string,
    session: Authentication,
    typed: string,
    device: PendingDevice,
    verdict: Extract<DeviceVerdict, { allowed: true }>,
  ) => {
    const tenant = ctx.state.tenant as string;
    sendPage(
      ctx,
      deviceConsentPage({
        action: action(tenant),
        csrf,
        userCode: typed,
        clientName: await clientName(directory, tenant, device.record.clientId),
        userLogin: await loginOf(store, tenant, session.userId),
        scopes: verdict.grant.scopes.map((name) => {
          const scope = verdict.config.scopes.find((candidate) => candidate.name === name);
          return {
            name,
            displayName: scope?.displayName || name,
            description: scope?.description ?? '',
          };
        }),
      }),
    );
  };

  const tenantActive = async (ctx: Context) => {
    if ((await directory.tenantStatus(ctx.state.tenant)) === 'ACTIVE') return true;
    showError(ctx, 404, 'invalid_request', 'There is no such page.');
    return false;
  };

  router.get(activatePath, async (ctx) => {
    if (!(await tenantActive(ctx))) return;
    const typed = typeof ctx.query.user_code === 'string' ? ctx.query.user_code.slice(0, 64) : '';
    const csrf = await csrfOf(ctx);
    const session = await flow.session(ctx.state.tenant, ctx.cookies.get(sessionCookie));
    sendPage(
      ctx,
      session ? await codePage(ctx, csrf, session, typed) : signInPage(ctx, csrf, typed),
    );
  });

  router.post(activatePath, async (ctx) => {
    const tenant = ctx.state.tenant as string;
    if (!(await tenantActive(ctx))) return;
    const form = await readForm(ctx);
    if (!form) return;
    const csrf = form.values.get('csrf');
    if (!(await csrfChecked(ctx, csrf)) || csrf === undefined) return;
    const typed = (form.values.get('user_code') ?? '').slice(0, 64);
    const step = form.values.get('step');

    if (step === 'sign-in') {
      const username = (form.values.get('username') ?? '').slice(0, 256);
      const password = (form.values.get('password') ?? '').slice(0, 1024);
      const again = (message: string, status: number) =>
        sendPage(ctx, signInPage(ctx, csrf, typed, { username, message, status }));
      const attempt = await deps.signIns.fromForm(ctx, tenant, username, password);
      if ('message' in attempt) return again(attempt.message, attempt.status);
      await interactions.startSession(ctx, {
        userId: attempt.user.id,
        authTime: Math.floor(now() / 1000),
        amr: ['pwd'],
      });
      return redirect(
        ctx,
        `${action(tenant)}${typed ? `?user_code=${encodeURIComponent(typed)}` : ''}`,
      );
    }

    const session = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    if (!session)
      return sendPage(
        ctx,
        signInPage(ctx, csrf, typed, { message: 'Sign in first, then enter the code.' }),
      );
    if (step !== 'code' && step !== 'decision')
      return showError(ctx, 400, 'invalid_request', 'The form is not one of this page.');
    // Both steps name a user code: both are counted, or the second would be a free oracle.
    if (!(await withinBudget(ctx, csrf, session, typed))) return;
    const found = await deviceFor(ctx, csrf, session, typed);
    if (!found) return;
    const { device, verdict } = found;
    if (step === 'code') return confirmation(ctx, csrf, session, typed, device, verdict);

    const allowed = form.values.get('decision') === 'allow';
    const decided = allowed
      ? await devices.approve(tenant, device, verdict.grant, session, ctx.state.requestId)
      : await devices.deny(tenant, device, session.userId, ctx.state.requestId);
    if (!decided)
      return sendPage(
        ctx,
        await codePage(ctx, csrf, session, typed, { message: wrongCode, status: 400 }),
      );
    sendPage(
      ctx,
      deviceDonePage(allowed, await clientName(directory, tenant, device.record.clientId)),
    );
  });
  return router;
}
