// How every service process starts and stops (each service's main.ts is one runService call):
// settings read and checked first (a bad one: the reason on stderr, exit 78, EX_CONFIG), then the
// event bus on Kafka and the read models on Redis (in generations: readers follow the current one,
// the projector builds and heals them), Redis and Kafka reached within the start-up budget (or one
// line naming the variable, exit 78), the topics checked, the service's own start, one JSON line
// once it listens, and on SIGTERM or SIGINT its HTTP servers drained and everything it opened
// closed in the reverse order, within the grace period (then what is left is closed by force).
import type { RequestListener, Server } from 'node:http';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import {
  ensureTopicsAtStart,
  type KafkaConnection,
  KafkaEventBus,
  type TopicSpec,
} from '@gatehouse/event-bus';
import type { ReadinessCheck } from '@gatehouse/http';
import { createLogger, logEntry, readLogLevel, setProcessLogger } from '@gatehouse/logging';
import { type GatehouseMetrics, processMetrics } from '@gatehouse/metrics';
import {
  GenerationalStore,
  type RedisConnection,
  RedisProjectionStore,
  redisUrlForLogs,
} from '@gatehouse/projection-store';
import { readTracingConfig, startTracing } from '@gatehouse/tracing';
import { type DrainableServer, drainableServer } from './http-drain.js';
import { withMetricsEndpoint } from './metrics-endpoint.js';
import { kafkaReachable, portFailure, redisReachable, StartFailure } from './start-checks.js';

export { type DrainableServer, type DrainOptions, drainableServer } from './http-drain.js';
export { withMetricsEndpoint } from './metrics-endpoint.js';
export { probeListener } from './probe-listener.js';
export { portFailure, StartFailure } from './start-checks.js';

/** What every service's settings hold besides its own. */
export interface RuntimeConfig {
  kafka: KafkaConnection;
  redis: RedisConnection;
  topics: readonly TopicSpec[];
  publishTimeoutMs: number;
}

export type LogEntry = Record<string, unknown>;

/** Settings of the process itself, the same for every service. */
export interface ProcessSettings {
  /**
   * GATEHOUSE_SHUTDOWN_GRACE_MS, default 10000: how long a SIGTERM may take (HTTP drained, gRPC
   * calls finished, consumers left their groups) before what is left is closed by force.
   */
  shutdownGraceMs: number;
  /**
   * GATEHOUSE_CONNECT_TIMEOUT_MS, default 8000: how long start-up waits for Redis and then Kafka to
   * answer before it ends with the address it tried (exit 78).
   */
  connectTimeoutMs: number;
}

export function readProcessSettings(env: Environment): ProcessSettings {
  return {
    shutdownGraceMs: setting.integer(env, 'GATEHOUSE_SHUTDOWN_GRACE_MS', {
      default: 10_000,
      min: 0,
      max: 600_000,
    }),
    connectTimeoutMs: setting.integer(env, 'GATEHOUSE_CONNECT_TIMEOUT_MS', {
      default: 8_000,
      min: 100,
      max: 600_000,
    }),
  };
}

export interface ServiceRuntime<C extends RuntimeConfig> {
  config: C;
  bus: KafkaEventBus;
  store: GenerationalStore;
  /** This process's Prometheus series (with Node's process metrics), served at /metrics by listen. */
  metrics: GatehouseMetrics;
  /** One JSON line on stdout (pino: time, level, the service's name, message), at its level. */
  log(entry: LogEntry): void;
  /** Closed at shutdown, the last registered first (the bus and the store are the first). */
  onShutdown(close: () => Promise<unknown> | unknown): void;
  /**
   * What /readyz requires of the process: `started` (false while starting and once shutting
   * down), `redis` (a PING answers) and `kafka` (a broker answers, no consumer stopped). A service
   * adds its own (gRPC clients) before it builds its app, and gives the whole to its app's probes.
   */
  readiness: Record<string, ReadinessCheck>;
  /**
   * Serves HTTP on the port and address (`variable` is the setting that chose the port, named when
   * it is taken), with GET /metrics (the exact path: a tenant's path never reaches it) answered
   * before the app; drained first at shutdown.
   */
  listen(
    app: RequestListener | { callback(): RequestListener },
    port: number,
    host: string,
    variable?: string,
  ): Promise<Server>;
}

export interface ServiceDefinition<C extends RuntimeConfig> {
  /** `admin`, `token`, ...: the Kafka client id is `gatehouse-<name>`. */
  name: string;
  readConfig(env: Environment): C;
  /** Starts the service; returns what the "listening" line should say (ports). */
  start(runtime: ServiceRuntime<C>): Promise<LogEntry>;
}

/** Reads the settings, or ends the process with the reason and exit code 78 (EX_CONFIG). */
export function readConfigOrExit<C>(
  name: string,
  read: (env: Environment) => C,
  env: Environment,
  exit: (code: number, message: string) => never = (code, message) => {
    process.stderr.write(message);
    process.exit(code);
  },
): C {
  try {
    return read(env);
  } catch (error) {
    if (error instanceof ConfigError) exit(78, `${name}: configuration error: ${error.message}\n`);
    throw error;
  }
}

/**
 * What a process closes at shutdown, the last registered first, each once: a second signal while
 * closing does not start again, and a close that fails is reported and does not stop the others.
 */
export class Shutdown {
  readonly #closes: (() => Promise<unknown> | unknown)[] = [];
  #running: Promise<void> | undefined;

  constructor(private readonly report: (error: unknown) => void) {}

  add(close: () => Promise<unknown> | unknown): void {
    this.#closes.push(close);
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const close of this.#closes.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          this.report(error);
        }
      }
    })();
    return this.#running;
  }
}

export async function runService<C extends RuntimeConfig>(
  definition: ServiceDefinition<C>,
  env: Environment = process.env,
): Promise<void> {
  const { name } = definition;
  // One JSON line per entry on stdout (pino): the service's own entries, the edges' request lines
  // and error reports (the process logger), and the Kafka client's once started.
  const logger = createLogger({ service: name, level: readConfigOrExit(name, readLogLevel, env) });
  setProcessLogger(logger);
  const log = (entry: LogEntry) => logEntry(logger, entry);
  const config = readConfigOrExit(name, definition.readConfig, env);
  const settings = readConfigOrExit(name, readProcessSettings, env);
  const shutdown = new Shutdown((error) =>
    log({ level: 'error', message: 'shutdown step failed', error: String(error) }),
  );
  // Traces (OTEL_* variables, off by default): started first, so flushed last at shutdown.
  const tracing = await startTracing(
    readConfigOrExit(name, (e) => readTracingConfig(e, name), env),
  );
  shutdown.add(() => tracing.shutdown());
  // While starting, the Kafka client's retry log is kept back: a failure is said in one line.
  let starting = true;
  let lastKafkaError: string | undefined;
  const bus = new KafkaEventBus({
    ...config.kafka,
    clientId: `gatehouse-${name}`,
    publishTimeoutMs: config.publishTimeoutMs,
    log: (entry) => {
      if (!starting) return void log(entry);
      if (entry.level === 'error') lastKafkaError = entry.message;
    },
  });
  shutdown.add(() => bus.close());
  const redis = new RedisProjectionStore({
    url: config.redis.url,
    redis: config.redis.redis,
    waitReplicas: config.redis.waitReplicas,
    waitTimeoutMs: config.redis.waitTimeoutMs,
  });
  const store = new GenerationalStore(redis);
  shutdown.add(() => store.close());
  const metrics = processMetrics();
  metrics.collectProcessMetrics();

  let phase: 'starting' | 'serving' | 'stopping' = 'starting';
  const readiness: Record<string, ReadinessCheck> = {
    started: {
      required: true,
      check: () =>
        phase === 'serving'
          ? { ok: true }
          : { ok: false, reason: phase === 'starting' ? 'still starting' : 'shutting down' },
    },
    redis: { required: true, check: async () => ({ ok: true, pingMs: await redis.ping() }) },
    kafka: { required: true, check: () => bus.probe() },
  };
  const servers: DrainableServer[] = [];
  const stop = (signal: NodeJS.Signals) => {
    if (phase === 'stopping') return;
    phase = 'stopping';
    log({ level: 'info', message: 'shutting down', signal, graceMs: settings.shutdownGraceMs });
    const started = performance.now();
    setTimeout(() => {
      log({
        level: 'warn',
        message: 'shutdown grace period over; closing what is left',
        graceMs: settings.shutdownGraceMs,
      });
      for (const server of servers) server.forceClose();
      process.exit(1);
    }, settings.shutdownGraceMs).unref();
    void shutdown.run().then(() => {
      log({ level: 'info', message: 'stopped', ms: Math.round(performance.now() - started) });
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  let listening: LogEntry;
  try {
    const deadline = Date.now() + settings.connectTimeoutMs;
    await redisReachable(
      () => redis.ping(),
      redisUrlForLogs(config.redis.url),
      settings.connectTimeoutMs,
    );
    await kafkaReachable(
      ensureTopicsAtStart(bus, config.topics, name),
      config.kafka.brokers,
      Math.max(1, deadline - Date.now()),
      () => lastKafkaError,
    );
    starting = false;
    listening = await definition.start({
      config,
      bus,
      store,
      log,
      readiness,
      metrics,
      onShutdown: (close) => shutdown.add(close),
      listen: async (app, port, host, variable) => {
        const listener = typeof app === 'function' ? app : app.callback();
        const drainable = drainableServer(withMetricsEndpoint(listener, metrics));
        const { server } = drainable;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        }).catch((error: unknown) => {
          throw portFailure(error, port, host, variable);
        });
        servers.push(drainable);
        shutdown.add(() => drainable.drain());
        return server;
      },
    });
  } catch (error) {
    if (!(error instanceof StartFailure)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(78);
  }
  starting = false;
  if (phase === 'starting') phase = 'serving';
  log({ level: 'info', message: 'listening', ...listening });
}
