// The Prometheus series every Gatehouse process exports (SPEC section 9), on one registry per
// process: the services record into `processMetrics()` and the process serves it at /metrics (the
// service runtime on each service's port, the all-in-one on its own internal port). Labels are the
// bounded ones only: route templates, methods, status codes, grant types, topics — never a tenant,
// a user, a client or a raw path.
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from 'prom-client';

/** Seconds buckets of request and round-trip durations: 0.5 ms to 10 s. */
export const durationBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Buckets of events per log write: 1 to 1,024. */
export const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The http_route of a request no route matched: a fixed value, never the path itself. */
export const unmatchedRoute = 'unmatched';

/** What a password check queue reports (the authorize service's HashQueue.depth). */
export interface HashQueueReading {
  running: number;
  queued: number;
  refused: number;
}

/** Every series' name, for the dashboard's test and the end-to-end assertions. */
export const seriesNames = {
  httpServerDuration: 'http_server_request_duration_seconds',
  rpcServerDuration: 'rpc_server_duration_seconds',
  rpcClientDuration: 'rpc_client_duration_seconds',
  tokensIssued: 'gatehouse_tokens_issued_total',
  tokenChecks: 'gatehouse_token_checks_total',
  projectionLag: 'gatehouse_projection_lag_seconds',
  projectionEventsApplied: 'gatehouse_projection_events_applied_total',
  eventPublishDuration: 'gatehouse_event_publish_duration_seconds',
  eventPublishBatchEvents: 'gatehouse_event_publish_batch_events',
  redisCommandDuration: 'gatehouse_redis_command_duration_seconds',
  hashQueueDepth: 'gatehouse_password_hash_queue_depth',
  hashQueueRefused: 'gatehouse_password_hash_refused_total',
} as const;

export class GatehouseMetrics {
  readonly registry = new Registry();

  /** OpenTelemetry's HTTP server duration, named as its Prometheus exporter names it. */
  readonly httpServerDuration = new Histogram({
    name: seriesNames.httpServerDuration,
    help: 'Duration of HTTP server requests, by route template, method and status code.',
    labelNames: ['http_route', 'http_request_method', 'http_response_status_code'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  readonly rpcServerDuration = new Histogram({
    name: seriesNames.rpcServerDuration,
    help: 'Duration of gRPC calls served, by service, method and gRPC status code.',
    labelNames: ['rpc_system', 'rpc_service', 'rpc_method', 'rpc_grpc_status_code'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  readonly rpcClientDuration = new Histogram({
    name: seriesNames.rpcClientDuration,
    help: 'Duration of gRPC calls made, by service, method and gRPC status code.',
    labelNames: ['rpc_system', 'rpc_service', 'rpc_method', 'rpc_grpc_status_code'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: seriesNames.tokensIssued,
    help: 'Token responses issued, by grant type and authorization server kind (org or custom).',
    labelNames: ['grant_type', 'server_kind'] as const,
    registers: [this.registry],
  });

  readonly tokenChecks = new Counter({
    name: seriesNames.tokenChecks,
    help: 'Token validity checks (SPEC section 6), by outcome: valid, invalid, stale (read models too far behind: failed closed) or error.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly projectionLag = new Gauge({
    name: seriesNames.projectionLag,
    help: 'How old the last event the projector applied on the topic was when it was applied (seconds since it occurred).',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly projectionEventsApplied = new Counter({
    name: seriesNames.projectionEventsApplied,
    help: 'Events the projector applied to the read models, by topic (redeliveries it skipped not counted).',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly eventPublishDuration = new Histogram({
    name: seriesNames.eventPublishDuration,
    help: 'Duration of appending events to the log (until acknowledged), by topic and outcome (ok or failed).',
    labelNames: ['topic', 'outcome'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  /**
   * Events per write to the log: per produce request (Kafka) or per append batch (embedded), one
   * observation each, whatever their topics. `_sum / _count` is events per request: the group
   * commit's batching, which sets the broker's cost per event.
   */
  readonly eventPublishBatchEvents = new Histogram({
    name: seriesNames.eventPublishBatchEvents,
    help: 'Events carried by each write to the log (a Kafka produce request, an embedded append batch).',
    buckets: batchBuckets,
    registers: [this.registry],
  });

  readonly redisCommandDuration = new Histogram({
    name: seriesNames.redisCommandDuration,
    help: 'Duration of Redis round trips of the read-model store, by command (readBatch and writeBatch are the store scripts).',
    labelNames: ['command'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  readonly #hashQueues = new Set<() => HashQueueReading>();

  readonly hashQueueDepth = new Gauge({
    name: seriesNames.hashQueueDepth,
    help: 'Password checks (scrypt) in the sign-in queue, by state: running or queued.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => this.#collectHashQueues(),
  });

  readonly hashQueueRefused = new Gauge({
    name: seriesNames.hashQueueRefused,
    help: 'Password checks refused since the process started (queue or a source share full).',
    registers: [this.registry],
    collect: () => this.#collectHashQueues(),
  });

  #defaultsCollected = false;

  /** Node's process metrics (CPU, memory, event loop lag, GC, handles), once per registry. */
  collectProcessMetrics(): void {
    if (this.#defaultsCollected) return;
    this.#defaultsCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Reports a password check queue until the returned function is called. */
  watchHashQueue(read: () => HashQueueReading): () => void {
    this.#hashQueues.add(read);
    return () => this.#hashQueues.delete(read);
  }

  #collectHashQueues(): void {
    let running = 0;
    let queued = 0;
    let refused = 0;
    for (const read of this.#hashQueues) {
      const depth = read();
      running += depth.running;
      queued += depth.queued;
      refused += depth.refused;
    }
    this.hashQueueDepth.set({ state: 'running' }, running);
    this.hashQueueDepth.set({ state: 'queued' }, queued);
    this.hashQueueRefused.set(refused);
  }

  /** The Prometheus text exposition of every series. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

let current: GatehouseMetrics | undefined;

/** This process's metrics: what every service records into and /metrics serves. */
export function processMetrics(): GatehouseMetrics {
  current ??= new GatehouseMetrics();
  return current;
}

/**
 * Observations of one labelled series kept per label set, so that a hot path observes without
 * building a labels object or hashing it per request (prom-client's labels() does both).
 */
export class SeriesCache<T extends string> {
  readonly #children = new Map<string, { observe(value: number): void }>();

  constructor(private readonly histogram: Histogram<T>) {}

  /** `key` must identify `labels` (the caller's own string of them). */
  observe(key: string, labels: LabelValues<T>, seconds: number): void {
    let child = this.#children.get(key);
    if (!child) {
      child = this.histogram.labels(labels);
      this.#children.set(key, child);
    }
    child.observe(seconds);
  }
}

/** Seconds since `start` (a performance.now() reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * GET /metrics on a node:http server: the exposition of `metrics`, or a JSON 405 for another method.
 * Serve it on an internal port only (the edge never routes /metrics).
 */
export function answerMetrics(
  metrics: GatehouseMetrics,
  req: { method?: string | undefined },
  res: {
    statusCode: number;
    setHeader(name: string, value: string): unknown;
    end(body: string): unknown;
  },
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, HEAD');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: 'method_not_allowed' }));
    return;
  }
  metrics.exposition().then(
    (text) => {
      res.statusCode = 200;
      res.setHeader('Content-Type', metrics.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? '' : text);
    },
    () => {
      // A collect callback that failed: no partial exposition, and nothing of the error.
      res.statusCode = 503;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: 'metrics_unavailable' }));
    },
  );
}

/** The request methods OpenTelemetry names; any other is `_OTHER` (so a label stays bounded). */
const knownMethods = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** http_request_method's value for a request method. */
export function requestMethodLabel(method: string): string {
  return knownMethods.has(method) ? method : '_OTHER';
}
