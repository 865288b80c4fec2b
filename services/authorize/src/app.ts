// The authorize service as a library (SPEC sections 1, 4, 5): /authorize (GET and POST) for the org
// server and every custom server, /api/v1/authn, the hosted sign-in and consent pages, browser
// sessions, and RP-initiated /logout. main.ts wires Kafka, Redis, a key ring and gRPC to the token
// service; the tests and the all-in-one mode wire others.
import type { TenancyConfig } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import {
  type EdgeLog,
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
import type { ProjectionStore } from '@gatehouse/projection-store';
import { memoryRateLimiter, type RateLimiter } from '@gatehouse/rate-limits';
import { type KeyRing, orgServerId } from '@gatehouse/signing-keys';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { AuthorizeFlow } from './authorize-flow.js';
import {
  type Authentication,
  defaultFlowOptions,
  FlowState,
  type FlowStateOptions,
  type Transaction,
} from './flow-state.js';
import { HashQueue, type HashQueueOptions } from './hash-queue.js';
import { checkAuthorizationRequest } from './http/authorize/checks/index.js';
import {
  BrowserCookies,
  browserCookie,
  sameSecret,
  sessionCookie,
  sha256,
} from './http/browser-cookies.js';
import { clientName, loginOf } from './http/display-names.js';
import { checkCsrf, Interactions } from './http/interactions.js';
import { verifyIdTokenHint } from './http/logout/id-token-hint.js';
import { pageErrors } from './http/page-errors.js';
import { formLimitBytes, type RawParameters, readForm, readParameters } from './http/parameters.js';
import { deliver, orgPath, redirect, sendPage, showError } from './http/responses.js';
import { SignInAttempts } from './http/sign-in-attempts.js';
import { LogoutRequests } from './logout-requests.js';
import { consentPage, formTargets, loginPage, signedOutPage } from './pages/html.js';
import { confirmSignOutPage, stillSignedInPage, switchUserPage } from './pages/session-pages.js';
import { PasswordWorkers } from './password-workers.js';
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

export function createAuthorizeService(deps: AuthorizeDeps): AuthorizeService {
  const log: EdgeLog =
    deps.log ??
    ((entry) => process.stderr.write(`${JSON.stringify({ service: 'authorize', ...entry })}\n`));
  const now = deps.now ?? Date.now;
  const { store, tenancy } = deps;
  const directory = new DirectoryCache(store, tenancy);
  const flow = new FlowState(store, { ...defaultFlowOptions, ...deps.flowOptions, now });
  const engine = new AuthorizeFlow({
    bus: deps.bus,
    store,
    directory,
    flow,
    minter: deps.minter,
    now,
  });
  const logoutRequests = new LogoutRequests(store, {
    now,
    lifetimeMs: flow.options.transactionLifetimeMs,
  });
  const hashes = new HashQueue(deps.hashQueue);
  const passwordWorkers = new PasswordWorkers(hashes.options.concurrency);
  const throttle = new SignInThrottle(
    deps.rateLimiter ?? memoryRateLimiter(),
    deps.trustedProxies ?? TrustedProxies.none,
  );
  const signIns = new SignInAttempts({ store, flow, hashes, passwordWorkers, throttle, now });
  const cookies = new BrowserCookies(tenancy);
  const interactions = new Interactions({ flow, engine, cookies, tenancy });

  const { ring } = deps;
  // Every page on one router (one match per request), the JSON API on its own.
  const pages = new Router();
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
    const browserSha256 = cookies.browserOf(ctx);
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
            `${orgPath(tenancy, tenant)}/switch-user?tx=${encodeURIComponent(transaction.id)}`,
          );
        }
        // Same user (or none): a fresh session in place of the old one.
        if (current) await flow.endSession(tenant, sid);
        signedInNow = true;
        await interactions.startSession(ctx, authentication);
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
    return interactions.answer(ctx, outcome);
  };

  pages.get('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  pages.post('/oauth2/v1/authorize', (ctx) => authorize(ctx, orgServerId));
  pages.get('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));
  pages.post('/oauth2/:serverId/v1/authorize', (ctx) => authorize(ctx, ctx.params.serverId!));
  pages.get('/login', async (ctx) => {
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

  pages.post('/login', async (ctx) => {
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
    if (!username || !password) return again('Enter your username and password.', 400);
    const attempt = await signIns.attempt(ctx, tenant, username, password);
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
  pages.get('/consent', async (ctx) => {
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

  pages.post('/consent', async (ctx) => {
    const form = await readForm(ctx);
    if (!form) return;
    const transaction = await interactions.pendingTransaction(ctx, form.values.get('tx'));
    if (!transaction || !checkCsrf(ctx, transaction, form)) return;
    const input = await interactions.continueWithSession(ctx, transaction);
    const asked = await engine.decide(input);
    if (asked.kind !== 'consent') return interactions.answer(ctx, asked, transaction);
    if (form.values.get('decision') !== 'allow') {
      const config = await directory.server(
        transaction.request.tenant,
        transaction.request.serverId,
      );
      return interactions.answer(
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
    return interactions.answer(
      ctx,
      await engine.decide({ ...input, consented: true }),
      transaction,
    );
  });
  /** The transaction of a sessionToken waiting for the user's choice, in the browser it came to. */
  const pendingSwitch = async (ctx: Context, id: string | undefined) => {
    const transaction = await interactions.pendingTransaction(ctx, id);
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
      return interactions.answer(
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
    const claims = await verifyIdTokenHint(ring, hint, tenant, serverId, config.issuer);
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
        browserSha256: cookies.browserOf(ctx),
        userId: session.userId,
        ...(postLogout !== undefined ? { postLogoutRedirectUri: postLogout } : {}),
        ...(state !== undefined ? { state } : {}),
      });
      return sendPage(
        ctx,
        confirmSignOutPage({
          action: `${orgPath(tenancy, tenant)}/oauth2/${serverId === orgServerId ? '' : `${encodeURIComponent(serverId)}/`}v1/logout`,
          ...(postLogout !== undefined ? { formAction: formTargets(postLogout) } : {}),
          requestId: pending.id,
          csrf: pending.csrf,
          clientName: client.metadata.clientName || client.id,
          login: await loginOf(store, tenant, session.userId),
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
    cookies.set(ctx, sessionCookie, '', 0);
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
      return sendPage(
        ctx,
        stillSignedInPage(session ? await loginOf(store, tenant, session.userId) : ''),
      );
    }
    return signOut(ctx, pending.postLogoutRedirectUri, pending.state);
  };

  pages.get('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  pages.post('/oauth2/v1/logout', (ctx) => logout(ctx, orgServerId));
  pages.get('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));
  pages.post('/oauth2/:serverId/v1/logout', (ctx) => logout(ctx, ctx.params.serverId!));
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
    const attempt = await signIns.attempt(ctx, tenant, username as string, password as string);
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
      const { fresh, lagMs } = await readModelsFresh(store, { now, maxLagMs: 1000 });
      return { ready: fresh, projectionLagMs: lagMs ?? null, passwordChecks: hashes.depth };
    }),
  );
  app.use(resolveTenant(tenancy));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  });
  // The JSON API answers in Okta's error shape; every other path is a page.
  const errors = { api: oktaErrors(log), page: pageErrors(log) };
  app.use((ctx, next) =>
    ctx.path.startsWith('/api/') ? errors.api(ctx, next) : errors.page(ctx, next),
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
