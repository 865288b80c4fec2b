// Every service in one process (SPEC section 1): the embedded event log on local disk, in-memory
// read models rebuilt from it at start, the token service called in-process instead of over gRPC,
// and one HTTP server that hands each request to the service owning its path (the same route
// table as the nginx edge of the distributed stack).
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdminApp } from '@gatehouse/admin';
import { createAuthorizeService, localTokenMinter } from '@gatehouse/authorize';
import type { TenancyConfig } from '@gatehouse/directory';
import { EmbeddedEventBus } from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import { TrustedProxies } from '@gatehouse/http';
import { createKeysService } from '@gatehouse/keys';
import { answerMetrics, processMetrics } from '@gatehouse/metrics';
import {
  GenerationalStore,
  MemoryProjectionStore,
  type ProjectionStore,
} from '@gatehouse/projection-store';
import { readModelsLagMs } from '@gatehouse/projections';
import { createProjector } from '@gatehouse/projector';
import {
  defaultRateLimitConfig,
  memoryRateLimiter,
  type RateLimitConfig,
} from '@gatehouse/rate-limits';
import { drainableServer } from '@gatehouse/service-runtime';
import { KeyRing, parseKeks, storeKeySource } from '@gatehouse/signing-keys';
import { createTokenService } from '@gatehouse/token';
import { type Upstream, upstreamOf } from '@gatehouse/topology';
import { createUserinfoService } from '@gatehouse/userinfo';

export type Log = (entry: Record<string, unknown>) => void;

export interface AllInOneOptions {
  dataDir: string;
  port: number;
  host: string;
  tenancy: TenancyConfig;
  adminToken: string;
  /** A GATEHOUSE_KEK value. */
  kek: string;
  rotationPeriodMs?: number;
  /** Signing keys generated ahead of need (see the keys service); none when absent. */
  keyPool?: { size: number; threads: number };
  log: Log;
  /** The request budgets, kept in this process's memory (GATEHOUSE_RATE_LIMITS). Default: defaults. */
  rateLimits?: RateLimitConfig;
  /** Whose X-Forwarded-For names a request's source (GATEHOUSE_TRUSTED_PROXIES). Default none. */
  trustedProxies?: TrustedProxies;
  /** Whether a jwks_uri may be http on a loopback host (GATEHOUSE_JWKS_URI_HTTP_LOOPBACK). */
  jwksUriHttpLoopback?: boolean;
  /**
   * Prometheus /metrics on a port of its own (GATEHOUSE_METRICS_PORT), apart from the public one so
   * that nothing public reaches it; none when absent.
   */
  metrics?: { port: number; host: string };
  /** Extra routes answered by the server itself (the demo's callback page), by exact path. */
  extraRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

export interface AllInOne {
  /** Where it listens, e.g. http://127.0.0.1:9000. */
  url: string;
  port: number;
  /** Events replayed into the read models at start. */
  replayed: number;
  /** Where /metrics is served, e.g. http://127.0.0.1:9464/metrics; absent without options.metrics. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export async function startAllInOne(options: AllInOneOptions): Promise<AllInOne> {
  const { log, tenancy } = options;
  const serviceLog =
    (service: string) =>
    (entry: Record<string, unknown>): void =>
      log({ service, ...entry });
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log({ level: 'error', message: 'stopping failed', error: String(error) });
      }
    }
  };
  try {
    await mkdir(options.dataDir, { recursive: true });
    const bus = await EmbeddedEventBus.open({
      dir: join(options.dataDir, 'events'),
      onRecovered: (topic, discardedBytes) =>
        log({ level: 'warn', message: 'cut a torn tail off the event log', topic, discardedBytes }),
    });
    stops.push(() => bus.close());
    const store = new GenerationalStore(new MemoryProjectionStore());
    stops.push(() => store.close());
    await bus.ensureTopics(topicSpecs());

    // The read models live in memory: built from the whole log (their first generation: there is
    // none at start), then followed.
    const projector = createProjector({
      bus,
      store,
      onError: (error, event) =>
        log({
          service: 'projector',
          level: 'error',
          message: 'projection failed; will retry',
          topic: event.topic,
          offset: event.offset.toString(),
          error: String(error),
        }),
    });
    const rebuilt = await projector.rebuild();
    await projector.start();
    stops.push(() => projector.stop());
    // Token checks fail closed until the projector says it has caught up: wait for that before
    // taking requests, so a restart is not a burst of 503s.
    await caughtUp(store, log);

    const keks = parseKeks(options.kek);
    const keys = createKeysService({
      bus,
      store,
      keks,
      tenancy,
      rotationPeriodMs: options.rotationPeriodMs,
      ...(options.keyPool ? { keyPool: options.keyPool } : {}),
      log: serviceLog('keys'),
    });
    await keys.start();
    stops.push(() => keys.stop());
    const ring = new KeyRing(storeKeySource(store), keks);
    await ring.follow(bus);
    stops.push(() => ring.close());

    // One process: its budgets in memory, shared by the services it runs.
    const rateLimiter = memoryRateLimiter(options.rateLimits ?? defaultRateLimitConfig);
    const trustedProxies = options.trustedProxies ?? TrustedProxies.none;
    const token = createTokenService({
      bus,
      store,
      ring,
      keks,
      tenancy,
      rateLimiter,
      trustedProxies,
      jwksUriHttpLoopback: options.jwksUriHttpLoopback ?? false,
      log: serviceLog('token'),
    });
    await token.start();
    stops.push(() => token.stop());
    const authorize = createAuthorizeService({
      bus,
      store,
      ring,
      keks,
      jwksUriHttpLoopback: options.jwksUriHttpLoopback ?? false,
      tenancy,
      minter: localTokenMinter(token.tokenService),
      rateLimiter,
      trustedProxies,
      log: serviceLog('authorize'),
    });
    await authorize.start();
    stops.push(() => authorize.stop());
    const userinfo = createUserinfoService({
      bus,
      store,
      ring,
      tenancy,
      log: serviceLog('userinfo'),
    });
    await userinfo.start();
    stops.push(() => userinfo.stop());
    const admin = createAdminApp({
      bus,
      store,
      tenancy,
      adminTokenSha256: createHash('sha256').update(options.adminToken).digest('hex'),
      keks,
      rateLimiter,
      log: serviceLog('admin'),
    });

    const handlers: Record<Upstream, (req: IncomingMessage, res: ServerResponse) => void> = {
      admin: admin.callback(),
      keys: keys.app.callback(),
      token: token.app.callback(),
      authorize: authorize.app.callback(),
      userinfo: userinfo.app.callback(),
    };
    // Drained at close: requests still to come answered with `Connection: close`, idle connections
    // closed, so a SIGTERM under keep-alive traffic ends without failing a request.
    const drainable = drainableServer((req, res) => {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      const extra = options.extraRoutes?.[path];
      if (extra) return extra(req, res);
      // Liveness and readiness: the userinfo service's, which say whether the read models are fresh.
      if (path === '/healthz' || path === '/readyz') return handlers.userinfo(req, res);
      handlers[upstreamOf(path)](req, res);
    });
    const { server } = drainable;
    server.keepAliveTimeout = 65_000;
    await listen(server, options.port, options.host);
    stops.push(() => drainable.drain());
    const { port } = server.address() as AddressInfo;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    let metricsUrl: string | undefined;
    if (options.metrics) {
      const metrics = processMetrics();
      metrics.collectProcessMetrics();
      // /metrics only: every other path of this port is a JSON 404.
      const metricsDrainable = drainableServer((req, res) => {
        if (req.url === '/metrics') return answerMetrics(metrics, req, res);
        res.statusCode = 404;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'not_found' }));
      });
      const metricsServer = metricsDrainable.server;
      await listen(metricsServer, options.metrics.port, options.metrics.host);
      stops.push(() => metricsDrainable.drain());
      const bound = (metricsServer.address() as AddressInfo).port;
      const metricsHost = options.metrics.host.includes(':')
        ? `[${options.metrics.host}]`
        : options.metrics.host;
      metricsUrl = `http://${metricsHost}:${bound}/metrics`;
    }
    return { url: `http://${host}:${port}`, port, replayed: rebuilt.events, metricsUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function caughtUp(store: ProjectionStore, log: Log): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await readModelsLagMs(store).catch(() => undefined)) === undefined) {
    if (Date.now() > deadline) {
      log({ level: 'warn', message: 'the read models have not caught up within 30 s; starting' });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
