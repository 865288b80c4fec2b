// How every service process starts and stops (each service's main.ts is one runService call):
// settings read and checked first (a bad one: the reason on stderr, exit 78, EX_CONFIG), then the
// event bus on Kafka and the read models on Redis (in generations: readers follow the current one,
// the projector builds and heals them), the topics checked, the service's own start, one JSON line
// once it listens, and on SIGTERM or SIGINT everything it opened closed in the reverse order.
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:http';
import { ConfigError, type Environment } from '@gatehouse/config';
import {
  ensureTopicsAtStart,
  type KafkaConnection,
  KafkaEventBus,
  type TopicSpec,
} from '@gatehouse/event-bus';
import {
  GenerationalStore,
  type RedisConnection,
  RedisProjectionStore,
} from '@gatehouse/projection-store';
import { readTracingConfig, startTracing } from '@gatehouse/tracing';

/** What every service's settings hold besides its own. */
export interface RuntimeConfig {
  kafka: KafkaConnection;
  redis: RedisConnection;
  topics: readonly TopicSpec[];
  publishTimeoutMs: number;
}

export type LogEntry = Record<string, unknown>;

export interface ServiceRuntime<C extends RuntimeConfig> {
  config: C;
  bus: KafkaEventBus;
  store: GenerationalStore;
  /** One JSON line on stdout, with the service's name. */
  log(entry: LogEntry): void;
  /** Closed at shutdown, the last registered first (the bus and the store are the first). */
  onShutdown(close: () => Promise<unknown> | unknown): void;
  /** Serves HTTP on the port and address; stops accepting first at shutdown. */
  listen(
    app: RequestListener | { callback(): RequestListener },
    port: number,
    host: string,
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function runService<C extends RuntimeConfig>(
  definition: ServiceDefinition<C>,
  env: Environment = process.env,
): Promise<void> {
  const { name } = definition;
  const log = (entry: LogEntry) =>
    process.stdout.write(`${JSON.stringify({ service: name, ...entry })}\n`);
  const config = readConfigOrExit(name, definition.readConfig, env);
  const shutdown = new Shutdown((error) =>
    log({ level: 'error', message: 'shutdown step failed', error: String(error) }),
  );
  // Traces (OTEL_* variables, off by default): started first, so flushed last at shutdown.
  const tracing = await startTracing(
    readConfigOrExit(name, (e) => readTracingConfig(e, name), env),
  );
  shutdown.add(() => tracing.shutdown());
  const bus = new KafkaEventBus({
    ...config.kafka,
    clientId: `gatehouse-${name}`,
    publishTimeoutMs: config.publishTimeoutMs,
  });
  shutdown.add(() => bus.close());
  const store = new GenerationalStore(
    new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
  );
  shutdown.add(() => store.close());
  const stop = () => {
    void shutdown.run().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await ensureTopicsAtStart(bus, config.topics, name);
  const listening = await definition.start({
    config,
    bus,
    store,
    log,
    onShutdown: (close) => shutdown.add(close),
    listen: async (app, port, host) => {
      const listener = typeof app === 'function' ? app : app.callback();
      const server = createServer(listener);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      shutdown.add(() => closeServer(server));
      return server;
    },
  });
  log({ level: 'info', message: 'listening', ...listening });
}
