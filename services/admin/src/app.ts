// The admin service as a library: a factory that takes its dependencies and returns a Koa app.
// main.ts wires Kafka and Redis; the all-in-one mode and the tests wire others.
import type { ScryptCost, TenancyConfig } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import {
  type EdgeLog,
  httpServerMetrics,
  methodNotAllowed,
  OktaApiError,
  oktaErrors,
  probes,
  processEdgeLog,
  projectionLagCheck,
  type ReadinessChecks,
  rateLimited,
  rateLimitHeaders,
  requestId,
  requireTenantToken,
  resolveTenant,
} from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { readModelsLagMs } from '@gatehouse/projections';
import { memoryRateLimiter, type RateLimiter } from '@gatehouse/rate-limits';
import { type KeyEncryptionKeys, waitForSigningKeys } from '@gatehouse/signing-keys';
import { traceKoaRequests } from '@gatehouse/tracing';
import Koa from 'koa';
import { DirectoryWriter, type SigningKeysWait } from './directory-writer.js';
import { appRoutes } from './http/apps/apps.js';
import { authorizationServerRoutes } from './http/authorization-servers/authorization-servers.js';
import { clientRoutes } from './http/clients/clients.js';
import { mapDomainErrors } from './http/domain-errors.js';
import { groupRoutes } from './http/groups/groups.js';
import { idempotency } from './http/idempotency.js';
import { userSchemaRoutes } from './http/schemas/user-schema.js';
import { requireSystemToken } from './http/system-auth.js';
import { tenantRoutes } from './http/tenants/tenants.js';
import { userRoutes } from './http/users/users.js';

export interface AdminDeps {
  bus: EventBus;
  store: ProjectionStore;
  tenancy: TenancyConfig;
  /** SHA-256 (hex) of the system API token. */
  adminTokenSha256: string;
  /**
   * Seals every new client secret (GATEHOUSE_KEK), so that a client may use client_secret_jwt,
   * whose assertions are verified with the secret itself.
   */
  keks: KeyEncryptionKeys;
  /** Longest wait for the projector after a change before answering 503. Default 5 s. */
  readYourWritesMs?: number;
  /**
   * How long the creation of a tenant or an authorization server waits for the keys service to give
   * the new servers their signing keys, so that JWKS has them when the creation answers (the
   * creation is answered when the wait runs out too: it happened, and the keys follow). Default:
   * readYourWritesMs; 0 for an admin without a keys service (tests of the admin alone).
   */
  signingKeysWaitMs?: number;
  /**
   * Requests per tenant API token (the management API's budget). Default: in this process's memory
   * with the default limits; a deployment of several replicas shares one in Redis.
   */
  rateLimiter?: RateLimiter;
  /** Password hashing cost; the default is OWASP's 32 MiB scrypt. Tests lower it for speed. */
  scryptCost?: ScryptCost;
  now?: () => Date;
  log?: EdgeLog;
  /**
   * What else /readyz requires of this replica besides its own state: the process's connections
   * (Redis, Kafka, gRPC clients) and whether it has started, given by the service runtime.
   */
  readiness?: ReadinessChecks;
}

export function createAdminApp(deps: AdminDeps): Koa {
  const log: EdgeLog = deps.log ?? processEdgeLog();
  const writer = new DirectoryWriter(deps.bus, deps.store, {
    readYourWritesMs: deps.readYourWritesMs ?? 5000,
    ...(deps.now ? { now: deps.now } : {}),
    // A command that lost a race (and was decided again), or that ran out of attempts (409).
    log,
  });
  const signingKeysWaitMs = deps.signingKeysWaitMs ?? deps.readYourWritesMs ?? 5000;
  const signingKeys: SigningKeysWait = async (tenant, serverIds) => {
    if (signingKeysWaitMs <= 0) return;
    const missing = await waitForSigningKeys(deps.store, tenant, serverIds, signingKeysWaitMs);
    if (missing.length > 0)
      log({
        level: 'warn',
        message: 'created, but the keys service has not given its servers signing keys yet',
        tenant,
        servers: missing,
      });
  };
  const app = new Koa({ proxy: false });
  app.use(traceKoaRequests('admin'));
  app.use(httpServerMetrics());
  app.use(requestId());
  app.use(oktaErrors(log));
  app.use(mapDomainErrors());
  // Liveness, and readiness with the read models' lag reported: a change that the projector does
  // not apply in time answers 503 itself, so the lag does not take the replica out.
  app.use(
    probes({
      ...deps.readiness,
      projections: projectionLagCheck(
        () => readModelsLagMs(deps.store),
        deps.readYourWritesMs ?? 5000,
      ),
    }),
  );

  const wrongMethod = (allowed: readonly string[]) => OktaApiError.methodNotAllowed(allowed);

  // The system API, on the public URL itself: /api/v1/tenants with the system token.
  const system = tenantRoutes({ store: deps.store, writer, tenancy: deps.tenancy, signingKeys });
  const requireSystem = requireSystemToken(deps.adminTokenSha256);
  // The per-tenant API, under a tenant's org base URL, with that tenant's API token.
  const perTenant = [
    userRoutes({ store: deps.store, writer, tenancy: deps.tenancy, scryptCost: deps.scryptCost }),
    groupRoutes({ store: deps.store, writer, tenancy: deps.tenancy }),
    userSchemaRoutes({ store: deps.store, writer, tenancy: deps.tenancy }),
    clientRoutes({ store: deps.store, writer, keks: deps.keks }),
    appRoutes({ store: deps.store, writer, tenancy: deps.tenancy, keks: deps.keks }),
    authorizationServerRoutes({
      store: deps.store,
      writer,
      tenancy: deps.tenancy,
      signingKeys,
    }),
  ];
  const requireTenant = requireTenantToken(deps.store);

  const isTenant = (ctx: Koa.Context) => ctx.state.tenant !== undefined;
  const isSystem = (ctx: Koa.Context) => !isTenant(ctx);
  app.use(resolveTenant(deps.tenancy));
  app.use(when(isTenant, requireTenant));
  const limiter = deps.rateLimiter ?? memoryRateLimiter();
  const throttle: Koa.Middleware = async (ctx, next) => {
    const budget = await limiter.take(
      ctx.state.tenant as string,
      'managementToken',
      ctx.state.apiTokenSha256 as string,
    );
    if (!budget.allowed) throw rateLimited(budget);
    ctx.set(rateLimitHeaders(budget));
    await next();
  };
  app.use(when(isTenant, throttle));
  app.use(when((ctx) => isSystem(ctx) && ctx.path.startsWith('/api/v1/tenants'), requireSystem));
  // Authenticated changes with an Idempotency-Key: a retry gets the first outcome, as it was
  // rendered (so the errors are mapped and rendered inside it too).
  const keyed = idempotency({
    store: deps.store,
    bus: deps.bus,
    readYourWritesMs: deps.readYourWritesMs ?? 5000,
  });
  const renderErrors = oktaErrors(log);
  const mapErrors = mapDomainErrors();
  // Only where a credential was checked: nobody else may leave records in the store.
  const authenticated = (ctx: Koa.Context) =>
    isTenant(ctx) || ctx.path.startsWith('/api/v1/tenants');
  app.use((ctx, next) =>
    authenticated(ctx) ? keyed(ctx, () => renderErrors(ctx, () => mapErrors(ctx, next))) : next(),
  );
  app.use(when(isSystem, methodNotAllowed(system, wrongMethod)));
  app.use(when(isSystem, system.routes()));
  for (const router of perTenant) {
    app.use(when(isTenant, methodNotAllowed(router, wrongMethod)));
    app.use(when(isTenant, router.routes()));
  }
  return app;
}

/** Runs `middleware` only for the requests `applies` to. */
function when(
  applies: (ctx: Koa.Context) => boolean,
  middleware: Koa.Middleware<never, never>,
): Koa.Middleware {
  const run = middleware as unknown as Koa.Middleware;
  return (ctx, next) => (applies(ctx) ? run(ctx, next) : next());
}

export { type AdminConfig, readAdminConfig } from './config.js';
