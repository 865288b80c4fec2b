// The authorize service as a library (SPEC sections 1, 4, 5): /authorize (GET and POST) for the org
// server and every custom server, /api/v1/authn, the hosted sign-in and consent pages, browser
// sessions, and RP-initiated /logout. main.ts wires Kafka, Redis, a key ring and gRPC to the token
// service; the tests and the all-in-one mode wire others. The routes are in http/, one folder each.

import { ClientThrottle, RemoteJwks } from '@gatehouse/client-auth';
import type { TenancyConfig } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import {
  type EdgeLog,
  httpServerMetrics,
  MethodNotAllowed,
  methodNotAllowed,
  OktaApiError,
  oauthErrors,
  oktaErrors,
  probes,
  processEdgeLog,
  projectionLagCheck,
  type ReadinessChecks,
  requestId,
  resolveTenant,
  TrustedProxies,
} from '@gatehouse/http';
import { processMetrics } from '@gatehouse/metrics';
import { DirectoryCache, readModelsFresh } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { memoryRateLimiter, type RateLimiter } from '@gatehouse/rate-limits';
import type { KeyEncryptionKeys, KeyRing } from '@gatehouse/signing-keys';
import { traceKoaRequests } from '@gatehouse/tracing';
import Router from '@koa/router';
import Koa from 'koa';
import { AuthorizeFlow } from './authorize-flow.js';
import { DeviceAuthorizations } from './device-authorizations.js';
import { defaultFlowOptions, FlowState, type FlowStateOptions } from './flow-state.js';
import { HashQueue, type HashQueueOptions } from './hash-queue.js';
import { authnRoutes } from './http/authn/authn.js';
import { authorizeRoutes } from './http/authorize/authorize.js';
import { pushedRequestRoutes } from './http/authorize/pushed-requests.js';
import { BrowserCookies } from './http/browser-cookies.js';
import { consentRoutes } from './http/consent/consent.js';
import { activateRoutes } from './http/device/activate.js';
import { deviceAuthorizationRoutes } from './http/device/device-authorization.js';
import { Interactions } from './http/interactions.js';
import { logoutRoutes } from './http/logout/logout.js';
import { pageErrors } from './http/page-errors.js';
import { sessionRoutes } from './http/sessions/sessions.js';
import { signInRoutes } from './http/sign-in/sign-in.js';
import { switchUserRoutes } from './http/sign-in/switch-user.js';
import { SignInAttempts } from './http/sign-in-attempts.js';
import { LogoutRequests } from './logout-requests.js';
import { PasswordWorkers } from './password-workers.js';
import { SignInThrottle } from './sign-in-throttle.js';
import type { TokenMinter } from './token-minter.js';

export interface AuthorizeDeps {
  bus: EventBus;
  store: ProjectionStore;
  /** Verifies id_token_hint at /logout (the servers' published keys). */
  ring: KeyRing;
  /** The key-encryption keys (GATEHOUSE_KEK): /par opens client secrets sealed for client_secret_jwt. */
  keks: KeyEncryptionKeys;
  /** Whether a private_key_jwt client's jwks_uri may be http on a loopback host. Default false. */
  jwksUriHttpLoopback?: boolean;
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
  /**
   * What else /readyz requires of this replica besides its own state: the process's connections
   * (Redis, Kafka, gRPC clients) and whether it has started, given by the service runtime.
   */
  readiness?: ReadinessChecks;
}

export interface AuthorizeService {
  app: Koa;
  /** Follows the directory so that cached entries stay true. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAuthorizeService(deps: AuthorizeDeps): AuthorizeService {
  const log: EdgeLog = deps.log ?? processEdgeLog();
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
  const rateLimiter = deps.rateLimiter ?? memoryRateLimiter();
  const trustedProxies = deps.trustedProxies ?? TrustedProxies.none;
  const throttle = new SignInThrottle(rateLimiter, trustedProxies);
  const signIns = new SignInAttempts({ store, flow, hashes, passwordWorkers, throttle, now });
  const cookies = new BrowserCookies(tenancy);
  const interactions = new Interactions({ flow, engine, cookies, tenancy });

  // Every page on one router (one match per request), the JSON API on its own.
  const pages = new Router();
  authorizeRoutes({ directory, store, flow, engine, interactions, cookies, tenancy }, pages);
  // /par authenticates clients as /token does, with the same budgets (shared in Redis).
  const clientAuth = {
    directory,
    store,
    throttle: new ClientThrottle(rateLimiter, trustedProxies, now),
    remoteJwks: new RemoteJwks({ allowHttpLoopback: deps.jwksUriHttpLoopback ?? false, now }),
    keks: deps.keks,
    now,
  };
  // The back-channel endpoints: /par and the device authorization endpoint (RFC 8628).
  const pushed = pushedRequestRoutes({ directory, store, clientAuth }, new Router());
  const devices = new DeviceAuthorizations({ bus: deps.bus, store, directory, now });
  deviceAuthorizationRoutes({ directory, clientAuth, devices, tenancy }, pushed);
  activateRoutes(
    {
      directory,
      store,
      flow,
      devices,
      interactions,
      cookies,
      signIns,
      limiter: rateLimiter,
      trustedProxies,
      tenancy,
      now,
    },
    pages,
  );
  signInRoutes({ directory, flow, engine, interactions, signIns, tenancy, now }, pages);
  consentRoutes({ directory, store, engine, interactions, tenancy }, pages);
  switchUserRoutes({ directory, store, flow, engine, interactions, tenancy, now }, pages);
  logoutRoutes(
    { directory, store, flow, logoutRequests, ring: deps.ring, cookies, tenancy },
    pages,
  );
  const api = authnRoutes({ directory, flow, throttle, signIns, now });
  sessionRoutes({ directory, flow, cookies }, api);

  const app = new Koa({ proxy: false });
  app.use(traceKoaRequests('authorize'));
  app.use(httpServerMetrics());
  app.use(requestId());
  // Liveness, and readiness with the read models' lag and the password check queue reported (a
  // full queue answers 429 itself; the lag is the shared projector's, as token's).
  app.use(
    probes({
      ...deps.readiness,
      projections: projectionLagCheck(
        async () => (await readModelsFresh(store, { now, maxLagMs: 1000 })).lagMs,
        1000,
      ),
      passwordChecks: { required: false, check: () => ({ ok: true, ...hashes.depth }) },
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
  // The JSON API answers in Okta's error shape, /par and /device/authorize in OAuth's (back-channel
  // endpoints, as /token); every other path is a page.
  const errors = { api: oktaErrors(log), oauth: oauthErrors(log), page: pageErrors(log) };
  app.use((ctx, next) =>
    ctx.path.startsWith('/api/')
      ? errors.api(ctx, next)
      : ctx.path.endsWith('/v1/par') || ctx.path.endsWith('/v1/device/authorize')
        ? errors.oauth(ctx, next)
        : errors.page(ctx, next),
  );
  app.use(methodNotAllowed(api, (allowed) => OktaApiError.methodNotAllowed(allowed)));
  app.use(methodNotAllowed(pushed, (allowed) => new MethodNotAllowed(allowed)));
  app.use(methodNotAllowed(pages, (allowed) => new MethodNotAllowed(allowed)));
  app.use(api.routes());
  app.use(pushed.routes());
  app.use(pages.routes());

  // The queue's depth on every scrape (gatehouse_password_hash_queue_depth), while started.
  let unwatch: (() => void) | undefined;
  return {
    app,
    start: async () => {
      unwatch ??= processMetrics().watchHashQueue(() => hashes.depth);
      await directory.follow(deps.bus, 'authorize');
    },
    stop: async () => {
      unwatch?.();
      unwatch = undefined;
      await directory.close();
      await clientAuth.remoteJwks.close();
      await passwordWorkers.close();
    },
  };
}

export { type AuthorizeConfig, readAuthorizeConfig } from './config.js';
export { grpcTokenMinter, localTokenMinter, type TokenMinter } from './token-minter.js';
