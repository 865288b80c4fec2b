// The keys service as a library (SPEC section 1): a factory that takes its dependencies and returns
// the HTTP app (JWKS, discovery, key management), the gRPC KeyService implementation, and the
// rotation schedule and directory follower to start. main.ts wires Kafka and Redis; tests and the
// all-in-one mode wire others.
import { randomUUID } from 'node:crypto';
import { decodeDirectoryEvent, type TenancyConfig } from '@gatehouse/directory';
import type { EventBus, Subscription } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
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
  requestId,
  requireTenantToken,
  resolveTenant,
} from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { readModelsLagMs } from '@gatehouse/projections';
import { type KeyEncryptionKeys, KeyPool, KeyWorkers, orgServerId } from '@gatehouse/signing-keys';
import { traceKoaRequests } from '@gatehouse/tracing';
import Koa from 'koa';
import { keyServiceImplementation } from './grpc/key-service.js';
import { credentialsRoutes } from './http/credentials/credentials.js';
import { discoveryRoutes } from './http/discovery/discovery.js';
import { jwksRoutes } from './http/jwks/jwks.js';
import { KeyKeeper } from './key-keeper.js';
import { KeyPoolFiller } from './key-pool-filler.js';

export interface KeysDeps {
  bus: EventBus;
  store: ProjectionStore;
  keks: KeyEncryptionKeys;
  tenancy: TenancyConfig;
  /** How long a key signs before the next one takes over. Default 90 days. */
  rotationPeriodMs?: number;
  /** Longest lifetime of a token signed with a key (a retired key stays published that long).
   * Default 24 h 5 min: the longest access token a rule allows, plus clock skew. */
  maxTokenLifetimeMs?: number;
  /** JWKS and discovery max-age ceiling; the served max-age is also below half the rotation
   * period, so a key is always cached before it signs. Default 3600 s. */
  jwksMaxAgeSeconds?: number;
  /** How often the schedule looks for due rotations. Default: a tenth of the period, 1 s to 60 s. */
  scheduleIntervalMs?: number;
  /** Longest wait for the projector around a key change. Default 5 s. */
  readYourWritesMs?: number;
  /** Consumer group of the directory follower, shared by every replica. Default gatehouse.keys. */
  groupId?: string;
  /** Where a follower group with no committed offset starts. Default `earliest`: every server ever
   * created gets keys. Tests that share a broker use `latest`, to see only their own tenants. */
  followFrom?: 'earliest' | 'latest';
  /**
   * Keys generated ahead of need, so that a new server signs as soon as it is created: how many the
   * pool holds, and how many worker threads refill it. Absent or size 0: keys are generated when
   * needed (the libraries' default; the service's is GATEHOUSE_KEY_POOL_SIZE).
   */
  keyPool?: { size: number; threads: number };
  now?: () => Date;
  log?: EdgeLog;
  /**
   * What else /readyz requires of this replica besides its own state: the process's connections
   * (Redis, Kafka, gRPC clients) and whether it has started, given by the service runtime.
   */
  readiness?: ReadinessChecks;
}

export interface KeysService {
  /** JWKS, discovery documents and the key management API. */
  app: Koa;
  /** The gRPC KeyService handlers; serve them with serveKeyService. */
  keyService: ReturnType<typeof keyServiceImplementation>;
  keeper: KeyKeeper;
  /** What keeps the key pool full, when there is one. */
  poolFiller?: KeyPoolFiller;
  /** Follows the directory (new servers get keys, deleted ones lose them) and runs the schedule. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createKeysService(deps: KeysDeps): KeysService {
  const log: EdgeLog = deps.log ?? processEdgeLog();
  const rotationPeriodMs = deps.rotationPeriodMs ?? 90 * 24 * 3600_000;
  const readYourWritesMs = deps.readYourWritesMs ?? 5000;
  const maxAgeSeconds = Math.max(
    0,
    Math.min(deps.jwksMaxAgeSeconds ?? 3600, Math.floor(rotationPeriodMs / 2000)),
  );
  // Keys generated ahead of need, on worker threads, taken by new servers.
  const keyPool = deps.keyPool?.size ? new KeyPool(deps.store, deps.keks, log) : undefined;
  const poolFiller =
    keyPool && deps.keyPool
      ? new KeyPoolFiller({
          pool: keyPool,
          workers: new KeyWorkers(deps.keyPool.threads),
          target: deps.keyPool.size,
          log,
        })
      : undefined;
  const keeper = new KeyKeeper({
    bus: deps.bus,
    store: deps.store,
    keks: deps.keks,
    rotationPeriodMs,
    maxTokenLifetimeMs: deps.maxTokenLifetimeMs ?? (24 * 60 + 5) * 60_000,
    readYourWritesMs,
    replicaId: `keys-${randomUUID()}`,
    now: deps.now ?? (() => new Date()),
    log,
    ...(keyPool ? { pool: keyPool, onPoolKeyTaken: () => poolFiller?.taken() } : {}),
  });

  const app = new Koa({ proxy: false });
  app.use(traceKoaRequests('keys'));
  app.use(httpServerMetrics());
  app.use(requestId());
  app.use(oktaErrors(log));
  app.use(resolveTenant(deps.tenancy));
  // Liveness, and readiness with the read models' lag reported: a change that the projector does
  // not apply in time answers 503 itself, so the lag does not take the replica out.
  app.use(
    probes({
      ...deps.readiness,
      projections: projectionLagCheck(() => readModelsLagMs(deps.store), readYourWritesMs),
    }),
  );
  const wrongMethod = (allowed: readonly string[]) => OktaApiError.methodNotAllowed(allowed);
  const requireTenant = requireTenantToken(deps.store);
  const publicRoutes = [
    jwksRoutes({ store: deps.store, maxAgeSeconds }),
    discoveryRoutes({ store: deps.store, tenancy: deps.tenancy, maxAgeSeconds }),
  ];
  for (const router of publicRoutes) {
    app.use(methodNotAllowed(router, wrongMethod));
    app.use(router.routes());
  }
  const management = credentialsRoutes({ store: deps.store, keeper, tenancy: deps.tenancy });
  app.use((ctx, next) => (ctx.path.startsWith('/api/') ? requireTenant(ctx, next) : next()));
  app.use(methodNotAllowed(management, wrongMethod));
  app.use(management.routes());

  let follower: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const intervalMs =
    deps.scheduleIntervalMs ?? Math.min(60_000, Math.max(1000, Math.floor(rotationPeriodMs / 10)));

  return {
    app,
    keyService: keyServiceImplementation({ store: deps.store, readYourWritesMs }),
    keeper,
    ...(poolFiller ? { poolFiller } : {}),
    async start() {
      poolFiller?.start();
      follower = await deps.bus.subscribe({
        groupId: deps.groupId ?? 'gatehouse.keys',
        topics: [Topics.directory],
        start: deps.followFrom ?? 'earliest',
        onError: (error) =>
          log({
            level: 'warn',
            message: 'directory event not handled yet; retrying',
            error: String(error),
          }),
        handler: async ({ envelope }) => {
          const event = decodeDirectoryEvent(envelope);
          if (!event) return;
          const { tenant, aggregateId, id } = envelope;
          if (event.type === 'gatehouse.events.v1.TenantCreated')
            await keeper.provision(tenant, orgServerId, id);
          else if (event.type === 'gatehouse.events.v1.AuthorizationServerCreated')
            await keeper.provision(tenant, aggregateId, id);
          else if (event.type === 'gatehouse.events.v1.AuthorizationServerDeleted')
            await keeper.removeAll(tenant, aggregateId, id);
        },
      });
      const tick = () => {
        running = keeper.runSchedule(`schedule-${randomUUID()}`).then(
          ({ rotated, removed, failed }) => {
            if (rotated.length + removed.length > 0)
              log({ level: 'info', message: 'key schedule', rotated, removed });
            for (const { server, error } of failed)
              log({
                level: 'warn',
                message: 'key schedule could not change a server; the next pass retries',
                server,
                error: String(error),
              });
          },
          (error: unknown) =>
            log({
              level: 'warn',
              message: 'key schedule failed; the next pass retries',
              error: String(error),
            }),
        );
        running.finally(() => {
          if (timer) timer = setTimeout(tick, intervalMs);
        });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      const pending = timer;
      timer = undefined;
      clearTimeout(pending);
      await running;
      await follower?.close();
      await poolFiller?.stop();
    },
  };
}

export { type KeysConfig, readKeyPoolSettings, readKeysConfig } from './config.js';
export { serveKeyService } from './grpc/key-service.js';
