// Starts the projector on Kafka and Redis. It builds the read models when Redis holds none (a first
// start, or Redis restarted empty) and follows the generation other replicas switch to. `--rebuild`
// builds a new generation from offset 0 beside the live one and switches to it: safe at any time,
// with any number of other replicas running and serving.
//   GATEHOUSE_KAFKA_BROKERS (required) and Kafka's TLS and SASL settings (see readKafkaConnection),
//   GATEHOUSE_REDIS_URL (required) and Redis's ACL and TLS settings (see readRedisConnection).
import { ConfigError, setting } from '@gatehouse/config';
import {
  ensureTopicsAtStart,
  type KafkaConnection,
  KafkaEventBus,
  readKafkaConnection,
} from '@gatehouse/event-bus';
import { topicSpecs } from '@gatehouse/events';
import {
  GenerationalStore,
  type RedisConnection,
  RedisProjectionStore,
  readRedisConnection,
} from '@gatehouse/projection-store';
import { createProjector } from './app.js';

const log = (entry: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ service: 'projector', ...entry })}\n`);

let kafka: KafkaConnection;
let redis: RedisConnection;
let topics: ReturnType<typeof topicSpecs>;
let publishTimeoutMs: number;
try {
  kafka = readKafkaConnection(process.env);
  topics = topicSpecs(process.env);
  // The projector appends copies to the derived topics (gatehouse.client-lifecycle, ...).
  publishTimeoutMs = setting.integer(process.env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
    default: 2000,
    min: 100,
    max: 60_000,
  });
  redis = readRedisConnection(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`projector: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const bus = new KafkaEventBus({ ...kafka, clientId: 'gatehouse-projector', publishTimeoutMs });
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: redis.url, redis: redis.redis }),
);
await ensureTopicsAtStart(bus, topics, 'projector');
const projector = createProjector({
  bus,
  store,
  onError: (error, event) =>
    log({
      level: 'error',
      message: 'projection failed; will retry',
      topic: event.topic,
      partition: event.partition,
      offset: event.offset.toString(),
      error: String(error),
    }),
});
if (process.argv.includes('--rebuild')) {
  const result = await projector.rebuild();
  log({
    level: 'info',
    message: 'rebuilt read models',
    events: result.events,
    ms: Math.round(result.ms),
  });
}
await projector.start();
log({ level: 'info', message: 'consuming', topics: topics.map((topic) => topic.name) });

const shutdown = async () => {
  await projector.stop();
  await bus.close();
  await store.close();
  process.exit(0);
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
