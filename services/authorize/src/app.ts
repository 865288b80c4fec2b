// The authorize service as a library (SPEC sections 1, 4, 5): /authorize (GET and POST) for the org
// server and every custom server, /api/v1/authn, the hosted sign-in and consent pages, browser
// sessions, and RP-initiated /logout. main.ts wires Kafka, Redis, a key ring and gRPC to the token
// service; the tests and the all-in-one mode wire others.
import { createHash, timingSafeEqual } from 'node:crypto';
import { orgBaseUrl, type TenancyConfig } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import {
  type EdgeLog,
  logUnexpected,
  OAuthError,
  OktaApiError,
  oktaErrors,
  probes,
  rateLimited,
  rateLimitHeaders,
  readBodyText,
  readJsonObject,
  requestId,
  resolveTenant,
  TrustedProxies,
} from '@gatehouse/http';
import { DirectoryCache, readModelsFresh } from '@gatehouse/oauth-reads';
import { type ProjectionStore, ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import { memoryRateLimiter, type RateLimiter } from '@gatehouse/rate-limits';
import type { KeyRing } from '@gatehouse/signing-keys';
import { orgServerId } from '@gatehouse/signing-keys';
import { TokenInvalidError, verifyJwt } from '@gatehouse/tokens';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { AuthorizeFlow, type Outcome, type ResponseTarget } from './authorize-flow.js';
import {
  type Authentication,
  defaultFlowOptions,
  FlowState,
  type FlowStateOptions,
  newSecret,
  type Transaction,
} from './flow-state.js';
import { HashQueue, HashQueueFullError, type HashQueueOptions } from './hash-queue.js';
import { checkAuthorizationRequest } from './http/authorize/checks/index.js';
import { type RawParameters, readParameters } from './http/parameters.js';
import { LogoutRequests } from './logout-requests.js';
import {
  consentPage,
  errorPage,
  formPostPage,
  formTargets,
  loginPage,
  type Page,
  postMessagePage,
  signedOutPage,
} from './pages/html.js';
import { confirmSignOutPage, stillSignedInPage, switchUserPage } from './pages/session-pages.js';
import { PasswordWorkers } from './password-workers.js';
import { signIn } from './sign-in.js';
import { SignInThrottle } from './sign-in-throttle.js';
import type { TokenMinter } from './token-minter.js';

export interface AuthorizeDeps {
  bus: EventBus;
  store: ProjectionStore;
  /** Verifies id_token_hint at /logout (the servers' published keys). */
  ring: KeyRing;
  tenancy: TenancyConfig;
  /** Mints the tokens of the implicit and hybrid flows (TokenService.MintTokens). */
  minter: TokenMinter;
  now?: () => number;
  log?: EdgeLog;
  /** Session, sessionToken and lockout settings; defaults are Okta's. */
  flowOptions?: Partial<Omit<FlowStateOptions, 'now'>>;
  /**
   * Sign-in attempts' budgets (per source address, per login). Default: in this process's memory
   * with the default limits; a deployment of several replicas shares one in Redis.
   */
  rateLimiter?: RateLimiter;
  /** The proxies whose X-Forwarded-For names a request's source. Default none. */
  trustedProxies?: TrustedProxies;
  /** The password check queue's bounds (see hash-queue.ts for the defaults). */
  hashQueue?: Partial<HashQueueOptions>;
}

export interface AuthorizeService {
  app: Koa;
  /** Follows the directory so that cached entries stay true. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const sessionCookie = 'gh_session';
const browserCookie = 'gh_browser';
const formLimitBytes = 16 * 1024;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(sha256(a));
  const y = Buffer.from(sha256(b));
  return timingSafeEqual(x, y);
};

export function createAuthorizeService(deps: AuthorizeDeps): AuthorizeService {
  const log: EdgeLog =
    deps.log ??
    ((entry) => process.stderr.write(`${JSON.stringify({ service: 'authorize', ...entry })}\n`));
  const now = deps.now ?? Date.now;
  const directory = new DirectoryCache(deps.store, deps.tenancy);
  const flow = new FlowState(deps.store, { ...defaultFlowOptions, ...deps.flowOptions, now });
  const engine = new AuthorizeFlow({
    bus: deps.bus,
    store: deps.store,
    directory,
    flow,
    minter: deps.minter,
    now,
  });
  const logoutRequests = new LogoutRequests(deps.store, {
    now,
    lifetimeMs: flow.options.transactionLifetimeMs,
  });
  const secure = deps.tenancy.mode === 'host' || deps.tenancy.publicUrl.protocol === 'https:';
  const hashes = new HashQueue(deps.hashQueue);
  const passwordWorkers = new PasswordWorkers(hashes.options.concurrency);
  const throttle = new SignInThrottle(
    deps.rateLimiter ?? memoryRateLimiter(),
    deps.trustedProxies ?? TrustedProxies.none,
  );
  /**
   * Counts a sign-in attempt and checks the password in its turn: the result, or why there is
   * none — a spent budget (429), or no place in the password check queue (429 for a source that
   * holds its share, 503 when everyone's is full).
   */
  const attemptSignIn = async (
    ctx: Context,
    tenant: string,
    username: string,
    password: string,
  ) => {
    const admission = await throttle.admit(ctx.req, tenant, username);
    ctx.set(admission.headers);
    if (!admission.budget.allowed)
      return { refused: rateLimited(admission.budget, now()) } as const;
    try {
      return {
        result: await signIn(
          { store: deps.store, flow, hashes, derive: passwordWorkers.derive },
          tenant,
          username,
          password,
          admission.source,
        ),
      } as const;
    } catch (error) {
      if (!(error instanceof HashQueueFullError)) throw error;
      return {
        refused:
          error.reason === 'source'
            ? rateLimited({ ...admission.budget, allowed: false, remaining: 0 }, now())
            : OktaApiError.unavailable(
                'Too many sign-ins are being checked right now; try again shortly.',
              ),
      } as const;
    }
  };

  // ---- responses -------------------------------------------------------------------------------
  const orgPath = (tenant: string) =>
    new URL(orgBaseUrl(deps.tenancy, tenant)).pathname.replace(/\/$/, '');
  const cookiePath = (tenant: string) => orgPath(tenant) || '/';
  const setCookie = (ctx: Context, name: string, value: string, maxAgeSeconds: number) => {
    ctx.append(
      'Set-Cookie',
      `${name}=${value}; Path=${cookiePath(ctx.state.tenant)}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
    );
  };
  const sendPage = (ctx: Context, page: Page) => {
    ctx.status = page.status;
    ctx.set('Content-Security-Policy', page.csp);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page.html;
  };
  const redirect = (ctx: Context, location: string) => {
    // 303 after a POST, so the browser follows with GET.
    ctx.status = ctx.method === 'POST' ? 303 : 302;
    ctx.set('Location', location);
    ctx.body = '';
  };
  const deliver = (ctx: Context, target: ResponseTarget, params: Record<string, string>) => {
    const all: Record<string, string> = { ...params };
    if (target.state !== undefined) all.state = target.state;
    all.iss = target.issuer;
    switch (target.responseMode) {
      case 'query': {
        const url = new URL(target.redirectUri);
        for (const [name, value] of Object.entries(all)) url.searchParams.append(name, value);
        return redirect(ctx, url.href);
      }
      case 'fragment':
        return redirect(
          ctx,
          `${target.redirectUri.split('#')[0]}#${new URLSearchParams(all).toString()}`,
        );
      case 'form_post':
        return sendPage(ctx, formPostPage(target.redirectUri, all));
      case 'okta_post_message':
        return sendPage(ctx, postMessagePage(target.redirectUri, all));
    }
  };
  const showError = (ctx: Context, status: number, error: string, description: string) =>
    sendPage(ctx, errorPage(status, error, description));

  const browserOf = (ctx: Context) => {
    let id = ctx.cookies.get(browserCookie);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
      id = newSecret();
      setCookie(ctx, browserCookie, id, 365 * 24 * 3600);
    }
    return sha256(id);
  };

  const answer = async (ctx: Context, outcome: Outcome, transaction?: Transaction) => {
    const tenant = ctx.state.tenant as string;
    switch (outcome.kind) {
      case 'respond':
        if (transaction) await flow.endTransaction(tenant, transaction.id);
        return deliver(ctx, outcome.target, outcome.params);
      case 'login':
        return redirect(
          ctx,
          `${orgPath(tenant)}/login?tx=${encodeURIComponent(outcome.transaction.id)}`,
        );
      case 'consent':
        return redirect(
          ctx,
          `${orgPath(tenant)}/consent?tx=${encodeURIComponent(outcome.transaction.id)}`,
        );
      case 'page':
        return showError(ctx, outcome.status, outcome.error, outcome.description);
      case 'end-session':
        await flow.endSession(tenant, ctx.cookies.get(sessionCookie));
        setCookie(ctx, sessionCookie, '', 0);
        return answer(ctx, outcome.next, transaction);
    }
  };

  const startSession = async (ctx: Context, authentication: Authentication) => {
    const sid = await flow.newSession(ctx.state.tenant, authentication);
    setCookie(ctx, sessionCookie, sid, Math.floor(flow.options.sessionLifetimeMs / 1000));
  };

  // ---- /authorize ------------------------------------------------------------------------------
  const authorize = async (ctx: Context, serverId: string) => {
    const tenant = ctx.state.tenant as string;
    let raw: RawParameters;
    if (ctx.method === 'POST') {
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type')))
        return showError(
          ctx,
          400,
          'invalid_request',
          'The body must be a form (application/x-www-form-urlencoded).',
        );
      raw = readParameters(await readBodyText(ctx, formLimitBytes));
    } else raw = readParameters(ctx.querystring);
    if ((await directory.tenantStatus(tenant)) !== 'ACTIVE')
      return showError(ctx, 404, 'invalid_request', 'There is no such organization.');
    const config = await directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE')
      return showError(
        ctx,
        404,
        'invalid_request',
        'The authorization server was not found or is not active.',
      );
    const clientId = raw.values.get('client_id');
    const client =
      clientId && clientId.length <= 100 ? await directory.client(tenant, clientId) : undefined;
    const read = checkAuthorizationRequest(raw, { tenant, serverId, client });
    if ('problem' in read) {
      const { problem } = read;
      if (problem.to === 'page')
        return showError(ctx, problem.status, problem.error, problem.description);
      return deliver(
        ctx,
        {
          redirectUri: problem.redirectUri,
          responseMode: problem.responseMode,
          ...(problem.state !== undefined ? { state: problem.state } : {}),
          issuer: config.issuer,
        },
        { error: problem.error, error_description: problem.description },
      );
    }
    const { request } = read;
    const browserSha256 = browserOf(ctx);
    let authentication: Authentication | undefined;
    let signedInNow = false;
    const sessionToken = raw.values.get('sessionToken');
    if (sessionToken) {
      authentication = await flow.redeemSessionToken(tenant, sessionToken);
      if (authentication) {
        const sid = ctx.cookies.get(sessionCookie);
        const current = await flow.session(tenant, sid);
        // A link can carry anyone's sessionToken (login CSRF): another user's never replaces the
        // session without the user's say. The token is spent either way; it waits in the
        // transaction for the answer.
        if (current && current.userId !== authentication.userId) {
          if (request.prompt.includes('none'))
            return deliver(ctx, engine.target(request, config), {
              error: 'interaction_required',
              error_description:
                'Another user is signed in; switching users needs the user to choose.',
            });
          const transaction = await flow.newTransaction(tenant, request, browserSha256);
          await flow.saveTransaction(tenant, { ...transaction, switchTo: authentication });
          return redirect(
            ctx,
            `${orgPath(tenant)}/switch-user?tx=${encodeURIComponent(transaction.id)}`,
          );
        }
        // Same user (or none): a fresh session in place of the old one.
        if (current) await flow.endSession(tenant, sid);
        signedInNow = true;
        await startSession(ctx, authentication);
      }
    } else {
      authentication = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    }
    const outcome = await engine.decide({
      request,
      authentication,
      signedInNow,
      browserSha256,
      requestId: ctx.state.requestId,
    });
    return answer(ctx, outcome);
  };

  /** The transaction a sign-in or consent form continues; only in the browser that started it. */
  const pendingTransaction = async (ctx: Context, id: string | undefined) => {
    const tenant = ctx.state.tenant as string;
    const transaction = await flow.transaction(tenant, id);
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
  };

  const readForm = async (ctx: Context): Promise<RawParameters | undefined> => {
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type'))) {
      showError(ctx, 400, 'invalid_request', 'The body must be a form.');
      return undefined;
    }
    const form = readParameters(await readBodyText(ctx, formLimitBytes));
    if (form.repeated.size > 0) {
      showError(ctx, 400, 'invalid_request', 'A form field was sent more than once.');
      return undefined;
    }
    return form;
  };

  const checkCsrf = (ctx: Context, transaction: Transaction, form: RawParameters) => {
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

  const clientName = async (tenant: string, clientId: string) =>
    (await directory.client(tenant, clientId))?.metadata.clientName || clientId;

  // ---- pages -----------------------------------------------------------------------------------
  const pages = new Router();
  pages.get('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  pages.post('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  pages.get('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));
  pages.post('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));

  pages.get('/login', async (ctx) => {
    const transaction = await pendingTransaction(ctx, ctx.query.tx as string | undefined);
    if (!transaction) return;
    sendPage(
      ctx,
      loginPage({
        action: `${orgPath(ctx.state.tenant)}/login`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(ctx.state.tenant, transaction.request.clientId),
        ...(transaction.request.loginHint ? { username: transaction.request.loginHint } : {}),
      }),
    );
  });

  pages.post('/login', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const form = await readForm(ctx);
    if (!form) return;
    const transaction = await pendingTransaction(ctx, form.values.get('tx'));
    if (!transaction || !checkCsrf(ctx, transaction, form)) return;
    const username = (form.values.get('username') ?? '').slice(0, 256);
    const password = (form.values.get('password') ?? '').slice(0, 1024);
    const again = async (message: string, status: number) =>
      sendPage(
        ctx,
        loginPage({
          action: `${orgPath(tenant)}/login`,
          formAction: formTargets(transaction.request.redirectUri),
          transactionId: transaction.id,
          csrf: transaction.csrf,
          clientName: await clientName(tenant, transaction.request.clientId),
          username,
          message,
          status,
        }),
      );
    if (!username || !password) return again('Enter your username and password.', 400);
    const attempt = await attemptSignIn(ctx, tenant, username, password);
    if (attempt.refused) {
      for (const [name, value] of Object.entries(attempt.refused.headers)) ctx.set(name, value);
      return again(
        'Too many sign-in attempts right now. Wait a minute, then try again.',
        attempt.refused.status,
      );
    }
    const { result } = attempt;
    if (result.outcome === 'failed')
      return again('Sign-in failed: the username or the password is not right.', 401);
    if (result.outcome === 'locked-out')
      return again(
        'This account is locked after too many failed sign-ins. Try again later, or ask your administrator.',
        403,
      );
    const authentication: Authentication = {
      userId: result.user.id,
      authTime: Math.floor(now() / 1000),
      amr: ['pwd'],
    };
    await startSession(ctx, authentication);
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
    return answer(ctx, outcome, signedIn);
  });

  /** Continues a transaction with the browser's session (the consent page's two steps). */
  const continueWithSession = async (ctx: Context, transaction: Transaction) => {
    const session = await flow.session(ctx.state.tenant, ctx.cookies.get(sessionCookie));
    return {
      request: transaction.request,
      authentication: session,
      signedInNow: transaction.signedInAt !== undefined,
      transaction,
      browserSha256: transaction.browserSha256,
      requestId: ctx.state.requestId,
    };
  };

  pages.get('/consent', async (ctx) => {
    const transaction = await pendingTransaction(ctx, ctx.query.tx as string | undefined);
    if (!transaction) return;
    const input = await continueWithSession(ctx, transaction);
    const outcome = await engine.decide(input);
    if (outcome.kind !== 'consent') return answer(ctx, outcome, transaction);
    const user = input.authentication
      ? await deps.store.hget(
          `rm:user:${ctx.state.tenant}:${input.authentication.userId}`,
          'profile',
        )
      : null;
    sendPage(
      ctx,
      consentPage({
        action: `${orgPath(ctx.state.tenant)}/consent`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(ctx.state.tenant, transaction.request.clientId),
        userLogin: user ? ((JSON.parse(user) as { login?: string }).login ?? '') : '',
        scopes: outcome.scopes,
      }),
    );
  });

  pages.post('/consent', async (ctx) => {
    const form = await readForm(ctx);
    if (!form) return;
    const transaction = await pendingTransaction(ctx, form.values.get('tx'));
    if (!transaction || !checkCsrf(ctx, transaction, form)) return;
    const input = await continueWithSession(ctx, transaction);
    const asked = await engine.decide(input);
    if (asked.kind !== 'consent') return answer(ctx, asked, transaction);
    if (form.values.get('decision') !== 'allow') {
      const config = await directory.server(
        transaction.request.tenant,
        transaction.request.serverId,
      );
      return answer(
        ctx,
        {
          kind: 'respond',
          target: engine.target(transaction.request, config!),
          params: {
            error: 'access_denied',
            error_description: 'The user did not allow the application access.',
          },
        },
        transaction,
      );
    }
    await engine.recordConsent(
      input,
      asked.scopes.map((scope) => scope.name),
    );
    return answer(ctx, await engine.decide({ ...input, consented: true }), transaction);
  });

  const loginOf = async (tenant: string, userId: string) => {
    const profile = await deps.store.hget(`rm:user:${tenant}:${userId}`, 'profile');
    return profile ? ((JSON.parse(profile) as { login?: string }).login ?? '') : '';
  };

  // ---- switching users (a sessionToken of another user than the session's) --------------------
  /** The transaction of a sessionToken waiting for the user's choice, in the browser it came to. */
  const pendingSwitch = async (ctx: Context, id: string | undefined) => {
    const transaction = await pendingTransaction(ctx, id);
    if (transaction && !transaction.switchTo) {
      showError(ctx, 400, 'invalid_request', 'There is no change of user to confirm.');
      return undefined;
    }
    return transaction as (Transaction & { switchTo: Authentication }) | undefined;
  };

  pages.get('/switch-user', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const transaction = await pendingSwitch(ctx, ctx.query.tx as string | undefined);
    if (!transaction) return;
    const current = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    sendPage(
      ctx,
      switchUserPage({
        action: `${orgPath(tenant)}/switch-user`,
        formAction: formTargets(transaction.request.redirectUri),
        transactionId: transaction.id,
        csrf: transaction.csrf,
        clientName: await clientName(tenant, transaction.request.clientId),
        currentLogin: current ? await loginOf(tenant, current.userId) : undefined,
        nextLogin: await loginOf(tenant, transaction.switchTo.userId),
      }),
    );
  });

  pages.post('/switch-user', async (ctx) => {
    const tenant = ctx.state.tenant as string;
    const form = await readForm(ctx);
    if (!form) return;
    const pending = await pendingSwitch(ctx, form.values.get('tx'));
    if (!pending || !checkCsrf(ctx, pending, form)) return;
    const { switchTo, ...transaction } = pending;
    if (form.values.get('decision') !== 'continue') {
      // The session stays; the app asked for the other user's sign-in, so it gets a no rather
      // than tokens of a user it did not ask for.
      const config = await directory.server(tenant, transaction.request.serverId);
      if (!config)
        return showError(
          ctx,
          404,
          'invalid_request',
          'The authorization server was not found or is not active.',
        );
      return answer(
        ctx,
        {
          kind: 'respond',
          target: engine.target(transaction.request, config),
          params: {
            error: 'access_denied',
            error_description: 'The user stayed signed in as the current user.',
          },
        },
        transaction,
      );
    }
    await flow.endSession(tenant, ctx.cookies.get(sessionCookie));
    await startSession(ctx, switchTo);
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
    return answer(ctx, outcome, signedIn);
  });

  // ---- /logout (OpenID Connect RP-Initiated Logout 1.0) -----------------------------------------
  const logout = async (ctx: Context, serverId: string) => {
    const tenant = ctx.state.tenant as string;
    const raw = ctx.method === 'POST' ? await readForm(ctx) : readParameters(ctx.querystring);
    if (!raw) return;
    if (raw.repeated.size > 0)
      return showError(ctx, 400, 'invalid_request', 'A parameter was sent more than once.');
    const config = await directory.server(tenant, serverId);
    if (!config || config.server?.status === 'INACTIVE')
      return showError(
        ctx,
        404,
        'invalid_request',
        'The authorization server was not found or is not active.',
      );
    if (ctx.method === 'POST' && raw.values.has('logout_request')) return confirmLogout(ctx, raw);
    const hint = raw.values.get('id_token_hint');
    if (!hint)
      return showError(ctx, 400, 'invalid_request', "The 'id_token_hint' parameter is required.");
    const claims = await verifyHint(hint, tenant, serverId, config.issuer);
    if (!claims)
      return showError(
        ctx,
        400,
        'invalid_request',
        "The 'id_token_hint' is not an ID token of this authorization server.",
      );
    const client = await directory.client(tenant, claims.aud);
    if (!client)
      return showError(ctx, 400, 'invalid_client', 'The client of the ID token is unknown.');
    const postLogout = raw.values.get('post_logout_redirect_uri');
    if (postLogout !== undefined && !client.metadata.postLogoutRedirectUris.includes(postLogout))
      return showError(
        ctx,
        400,
        'invalid_request',
        "The 'post_logout_redirect_uri' must be a sign-out redirect URI in the client app settings.",
      );
    const state = raw.values.get('state');
    const session = await flow.session(tenant, ctx.cookies.get(sessionCookie));
    // Any ID token of this server is a valid hint, an attacker's own too (logout CSRF): the
    // session of another user than the hint's ends only when its user says so.
    if (session && session.userId !== claims.sub) {
      const pending = await logoutRequests.create(tenant, {
        browserSha256: browserOf(ctx),
        userId: session.userId,
        ...(postLogout !== undefined ? { postLogoutRedirectUri: postLogout } : {}),
        ...(state !== undefined ? { state } : {}),
      });
      return sendPage(
        ctx,
        confirmSignOutPage({
          action: `${orgPath(tenant)}/oauth2/${serverId === orgServerId ? '' : `${encodeURIComponent(serverId)}/`}v1/logout`,
          ...(postLogout !== undefined ? { formAction: formTargets(postLogout) } : {}),
          requestId: pending.id,
          csrf: pending.csrf,
          clientName: client.metadata.clientName || client.id,
          login: await loginOf(tenant, session.userId),
        }),
      );
    }
    return signOut(ctx, postLogout, state);
  };

  /** Ends the browser's session and answers the logout: the sign-out URI with the state, or a page. */
  const signOut = async (
    ctx: Context,
    postLogout: string | undefined,
    state: string | undefined,
  ) => {
    await flow.endSession(ctx.state.tenant, ctx.cookies.get(sessionCookie));
    setCookie(ctx, sessionCookie, '', 0);
    if (postLogout === undefined) return sendPage(ctx, signedOutPage());
    const url = new URL(postLogout);
    if (state !== undefined) url.searchParams.append('state', state);
    redirect(ctx, url.href);
  };

  /** The user's answer on the sign-out confirmation page. */
  const confirmLogout = async (ctx: Context, form: RawParameters) => {
    const tenant = ctx.state.tenant as string;
    const id = form.values.get('logout_request');
    const pending = await logoutRequests.get(tenant, id);
    const browser = ctx.cookies.get(browserCookie);
    const expired = () =>
      showError(
        ctx,
        400,
        'invalid_request',
        'This sign-out request has expired, was answered, or was started in another browser.',
      );
    if (!pending || !browser || sha256(browser) !== pending.browserSha256) return expired();
    if (!sameSecret(form.values.get('csrf') ?? '', pending.csrf))
      return showError(ctx, 403, 'invalid_request', 'The form could not be verified.');
    if (!(await logoutRequests.take(tenant, pending.id))) return expired();
    if (form.values.get('decision') !== 'sign-out') {
      const session = await flow.session(tenant, ctx.cookies.get(sessionCookie));
      return sendPage(ctx, stillSignedInPage(session ? await loginOf(tenant, session.userId) : ''));
    }
    return signOut(ctx, pending.postLogoutRedirectUri, pending.state);
  };

  /** An ID token of this server, signed by one of its keys; expired ones are fine (a hint). */
  const verifyHint = async (hint: string, tenant: string, serverId: string, issuer: string) => {
    const payload = hint.split('.')[1];
    let unverified: Record<string, unknown>;
    try {
      unverified = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof unverified.aud !== 'string' || typeof unverified.iat !== 'number') return undefined;
    try {
      const { claims } = verifyJwt(hint, {
        keys: await deps.ring.verificationKeys(tenant, serverId),
        issuer,
        audience: unverified.aud,
        // As of when it was issued: a hint may have expired since.
        now: () => (unverified.iat as number) * 1000,
      });
      if (typeof claims.jti !== 'string' || !claims.jti.startsWith('ID.')) return undefined;
      return claims as { aud: string; sub: string };
    } catch (error) {
      if (error instanceof TokenInvalidError) return undefined;
      throw error;
    }
  };

  pages.get('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  pages.post('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  pages.get('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));
  pages.post('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));

  // ---- /api/v1/authn (Okta's Authentication API) ------------------------------------------------
  const api = new Router();
  api.post('/api/v1/authn', async (ctx) => {
    const tenant = ctx.state.tenant as string | undefined;
    if (!tenant || (await directory.tenantStatus(tenant)) !== 'ACTIVE')
      throw OktaApiError.pathNotFound();
    const spent = await throttle.spentBySource(ctx.req, tenant);
    if (spent) {
      ctx.set(rateLimitHeaders(spent));
      throw rateLimited(spent, now());
    }
    const body = await readJsonObject(ctx, formLimitBytes);
    const { username, password } = body;
    const causes = [
      ...(typeof username !== 'string' || username === '' || username.length > 256
        ? [{ field: 'username', message: 'a username of at most 256 characters is required' }]
        : []),
      ...(typeof password !== 'string' || password === '' || password.length > 1024
        ? [{ field: 'password', message: 'a password of at most 1024 characters is required' }]
        : []),
    ];
    if (causes.length > 0) throw OktaApiError.validation(causes);
    const attempt = await attemptSignIn(ctx, tenant, username as string, password as string);
    if (attempt.refused) throw attempt.refused;
    const { result } = attempt;
    if (result.outcome === 'locked-out') {
      ctx.status = 200;
      ctx.body = { status: 'LOCKED_OUT' };
      return;
    }
    if (result.outcome === 'failed')
      throw new OktaApiError(401, 'E0000004', 'Authentication failed');
    const { token, expiresAt } = await flow.newSessionToken(tenant, {
      userId: result.user.id,
      authTime: Math.floor(now() / 1000),
      amr: ['pwd'],
    });
    const profile = result.user.profile as unknown as Record<string, unknown>;
    ctx.body = {
      expiresAt: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, '.000Z'),
      status: 'SUCCESS',
      sessionToken: token,
      _embedded: {
        user: {
          id: result.user.id,
          passwordChanged: result.user.passwordChanged,
          profile: {
            login: profile.login,
            firstName: profile.firstName ?? null,
            lastName: profile.lastName ?? null,
            locale: profile.locale ?? 'en_US',
            timeZone: profile.zoneinfo ?? 'America/Los_Angeles',
          },
        },
      },
    };
  });

  const app = new Koa({ proxy: false });
  app.use(requestId());
  // Liveness, and readiness: the read models sign-ins are decided from are fresh (as token's).
  app.use(
    probes(async () => {
      const { fresh, lagMs } = await readModelsFresh(deps.store, { now, maxLagMs: 1000 });
      return { ready: fresh, projectionLagMs: lagMs ?? null, passwordChecks: hashes.depth };
    }),
  );
  app.use(resolveTenant(deps.tenancy));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  });
  // The JSON API answers in Okta's error shape; every other path is a page.
  const apiErrors = oktaErrors(log);
  const pageErrors: Koa.Middleware = async (ctx, next) => {
    try {
      if (!ctx.state.tenant)
        return showError(ctx, 404, 'invalid_request', 'There is no such page.');
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        showError(ctx, 404, 'invalid_request', 'There is no such page.');
    } catch (caught) {
      if (caught instanceof OAuthError && caught.status < 500)
        return showError(ctx, caught.status, caught.error, caught.description);
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
  app.use((ctx, next) =>
    ctx.path.startsWith('/api/') ? apiErrors(ctx, next) : pageErrors(ctx, next),
  );
  app.use(api.routes());
  app.use(
    api.allowedMethods({
      throw: true,
      methodNotAllowed: () => OktaApiError.methodNotAllowed(['POST']),
    }),
  );
  app.use(pages.routes());
  app.use(pages.allowedMethods());

  return {
    app,
    start: () => directory.follow(deps.bus, 'authorize'),
    stop: async () => {
      await directory.close();
      await passwordWorkers.close();
    },
  };
}

export { type AuthorizeConfig, readAuthorizeConfig } from './config.js';
export { grpcTokenMinter, localTokenMinter, type TokenMinter } from './token-minter.js';
