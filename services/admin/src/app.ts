// The admin service as a library: a factory that takes its dependencies and returns a Koa app.
// main.ts wires Kafka and Redis; the all-in-one mode and the tests wire others.
import type { TenancyConfig } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import { type EdgeLog, OktaApiError, oktaErrors, requestId } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Koa from 'koa';
import { DirectoryWriter } from './directory-writer.js';
import { mapDomainErrors } from './http/domain-errors.js';
import { requireSystemToken } from './http/system-auth.js';
import { tenantRoutes } from './http/tenants/tenants.js';

export interface AdminDeps {
  bus: EventBus;
  store: ProjectionStore;
  tenancy: TenancyConfig;
  /** SHA-256 (hex) of the system API token. */
  adminTokenSha256: string;
  /** Longest wait for the projector after a change before answering 503. Default 5 s. */
  readYourWritesMs?: number;
  now?: () => Date;
  log?: EdgeLog;
}

export function createAdminApp(deps: AdminDeps): Koa {
  const log: EdgeLog =
    deps.log ??
    ((entry) => process.stderr.write(`${JSON.stringify({ service: 'admin', ...entry })}\n`));
  const writer = new DirectoryWriter(deps.bus, deps.store, {
    readYourWritesMs: deps.readYourWritesMs ?? 5000,
    now: deps.now,
  });
  const app = new Koa({ proxy: false });
  app.use(requestId());
  app.use(oktaErrors(log));
  app.use(mapDomainErrors());

  const system = tenantRoutes({ store: deps.store, writer, tenancy: deps.tenancy });
  const requireToken = requireSystemToken(deps.adminTokenSha256);
  app.use(async (ctx, next) =>
    ctx.path.startsWith('/api/v1/tenants') ? requireToken(ctx, next) : next(),
  );
  app.use(system.routes());
  app.use(
    system.allowedMethods({
      throw: true,
      methodNotAllowed: () => OktaApiError.methodNotAllowed([]),
      notImplemented: () => OktaApiError.methodNotAllowed([]),
    }),
  );
  return app;
}

export { type AdminConfig, readAdminConfig } from './config.js';
