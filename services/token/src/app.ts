// The token service as a library (SPEC section 1): /token, /introspect and /revoke for the org server
// and every custom server of every tenant. main.ts wires Kafka, Redis and a key ring; the tests and
// the all-in-one mode wire others.

import { ClientThrottle, RemoteJwks } from '@gatehouse/client-auth';
import type { TenancyConfig } from '@gatehouse/directory';
import { DpopNonces } from '@gatehouse/dpop';
import type { EventBus } from '@gatehouse/event-bus';
import {
  DirectRoutesKoa,
  type EdgeLog,
  koaRoute,
  MethodNotAllowed,
  methodNotAllowed,
  oauthCacheHeaders,
  oauthErrorReply,
  oauthErrors,
  probes,
  processEdgeLog,
  projectionLagCheck,
  type ReadinessChecks,
  requestId,
  resolveTenant,
  TrustedProxies,
} from '@gatehouse/http';
import { DirectoryCache, type FreshnessGuard, readModelsFresh } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { memoryRateLimiter, type RateLimiter } from '@gatehouse/rate-limits';
import type { KeyEncryptionKeys, KeyRing } from '@gatehouse/signing-keys';
import { traceKoaRequests } from '@gatehouse/tracing';
import Router from '@koa/router';
import type Koa from 'koa';
import { tokenServiceImplementation } from './grpc/token-service.js';
import { introspectHandlers } from './http/introspect/introspect.js';
import { revokeRoutes } from './http/revoke/revoke.js';
import { tokenHandlers } from './http/token/token.js';
import { Revocations } from './revocations.js';
import { TokenIssuer } from './token-issuer.js';

export interface TokenDeps {
  bus: EventBus;
  store: ProjectionStore;
  /** Signs with each server's active key; follows key events (KeyRing.follow). */
  ring: KeyRing;
  /** The key-encryption keys (GATEHOUSE_KEK): they open client secrets sealed for client_secret_jwt. */
  keks: KeyEncryptionKeys;
  tenancy: TenancyConfig;
  now?: () => number;
  log?: EdgeLog;
  /**
   * How far behind the read models may be before token checks fail closed with 503
   * temporarily_unavailable (SPEC section 6). Default 1000 ms.
   */
  maxProjectionLagMs?: number;
  /**
   * Client authentication's budgets (per client id; failures per client id and source). Default:
   * in this process's memory with the default limits; a deployment of several replicas shares one
   * in Redis.
   */
  rateLimiter?: RateLimiter;
  /**
   * Whether a private_key_jwt client's jwks_uri may be http on a loopback host (development, tests);
   * https only otherwise. Default false.
   */
  jwksUriHttpLoopback?: boolean;
  /** The proxies whose X-Forwarded-For names a request's source. Default none. */
  trustedProxies?: TrustedProxies;
  /**
   * What else /readyz requires of this replica besides its own state: the process's connections
   * (Redis, Kafka, gRPC clients) and whether it has started, given by the service runtime.
   */
  readiness?: ReadinessChecks;
}

export interface TokenService {
  app: Koa;
  /** Follows the directory (and keys, through the ring given) so that cached entries stay true. */
  start(): Promise<void>;
  stop(): Promise<void>;
  issuer: TokenIssuer;
  /** The gRPC TokenService handlers; serve them with serveTokenService. */
  tokenService: ReturnType<typeof tokenServiceImplementation>;
}

export function createTokenService(deps: TokenDeps): TokenService {
  const log: EdgeLog = deps.log ?? processEdgeLog();
  const now = deps.now ?? Date.now;
  const issuer = new TokenIssuer({ bus: deps.bus, store: deps.store, ring: deps.ring, now });
  const revocations = new Revocations({ store: deps.store, issuer, now });
  // /token and /introspect are answered on node:http directly (the hot paths: every token, and
  // every resource server's check); everything else, and what the direct path leaves to koa, goes
  // through koa.
  const app = new DirectRoutesKoa({
    tenancy: deps.tenancy,
    headers: oauthCacheHeaders,
    onError: (caught, request) => oauthErrorReply(log, request, caught),
    component: 'token',
  });
  app.use(traceKoaRequests('token'));
  app.use(requestId());
  app.use(oauthErrors(log));
  app.use(resolveTenant(deps.tenancy));
  const directory = new DirectoryCache(deps.store, deps.tenancy);
  const guard: FreshnessGuard = { now, maxLagMs: deps.maxProjectionLagMs ?? 1000 };
  const throttle = new ClientThrottle(
    deps.rateLimiter ?? memoryRateLimiter(),
    deps.trustedProxies ?? TrustedProxies.none,
    now,
  );
  const remoteJwks = new RemoteJwks({ allowHttpLoopback: deps.jwksUriHttpLoopback ?? false, now });
  const shared = {
    store: deps.store,
    directory,
    now,
    guard,
    throttle,
    remoteJwks,
    keks: deps.keks,
  };
  app.use(
    probes({
      ...deps.readiness,
      projections: projectionLagCheck(
        async () => (await readModelsFresh(deps.store, guard)).lagMs,
        guard.maxLagMs,
      ),
    }),
  );
  // One router for the three endpoints: one match and one composed chain per request.
  const router = new Router();
  const dpopNonces = new DpopNonces(deps.keks, { now });
  const token = tokenHandlers({
    ...shared,
    ring: deps.ring,
    issuer,
    revocations,
    log,
    dpopNonces,
  });
  app.direct(['POST'], '/oauth2/v1/token', token.org);
  app.direct(['POST'], '/oauth2/:asId/v1/token', token.custom);
  router.post('/oauth2/v1/token', koaRoute(token.org));
  router.post('/oauth2/:asId/v1/token', koaRoute(token.custom));
  const introspect = introspectHandlers({ ...shared, ring: deps.ring });
  app.direct(['POST'], '/oauth2/v1/introspect', introspect.org);
  app.direct(['POST'], '/oauth2/:asId/v1/introspect', introspect.custom);
  router.post('/oauth2/v1/introspect', koaRoute(introspect.org));
  router.post('/oauth2/:asId/v1/introspect', koaRoute(introspect.custom));
  revokeRoutes({ ...shared, ring: deps.ring, revocations }, router);
  app.use(methodNotAllowed(router, (allowed) => new MethodNotAllowed(allowed)));
  app.use(router.routes());
  const tokenService = tokenServiceImplementation({
    ...shared,
    ring: deps.ring,
    issuer,
    log: (error) =>
      log({
        level: 'error',
        message: 'unexpected error in TokenService',
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      }),
  });
  return {
    app,
    issuer,
    tokenService,
    start: () => directory.follow(deps.bus, 'token'),
    stop: async () => {
      await directory.close();
      await remoteJwks.close();
    },
  };
}

export { readTokenConfig, type TokenConfig } from './config.js';
export { serveTokenService } from './grpc/token-service.js';
