// The projector as `pnpm bench:token` runs it: createProjector (services/projector/src/app.ts) on
// Kafka and Redis, wired as services/projector/src/main.ts wires it (the Kafka and Redis settings
// from the same environment variables, GATEHOUSE_PUBLISH_TIMEOUT_MS for the copies it appends, its
// errors logged, Node's process metrics collected and /metrics served), in a process of its own so
// that its CPU can be counted alone. Three differences, all for the bench: the read models are under
// GATEHOUSE_BENCH_REDIS_PREFIX in a plain store (no generations, so that it projects at once and
// the bench's token servers, which read that prefix, see them), the consumer group is
// BENCH_PROJECTOR_GROUP (the run's own), and it listens on 127.0.0.1 for /metrics only. It prints
// one line, {"port":N}, once it is projecting.
import { createServer } from 'node:http';
import { setting } from '@gatehouse/config';
import { KafkaEventBus, readKafkaConnection } from '@gatehouse/event-bus';
import { processMetrics } from '@gatehouse/metrics';
import { RedisProjectionStore, readRedisConnection } from '@gatehouse/projection-store';
import { createProjector } from '@gatehouse/projector';
import { withMetricsEndpoint } from '@gatehouse/service-runtime';

const group = process.env.BENCH_PROJECTOR_GROUP;
if (!group) throw new Error('projector-server: BENCH_PROJECTOR_GROUP is not set');
const kafka = readKafkaConnection(process.env);
const redis = readRedisConnection(process.env);
const bus = new KafkaEventBus({
  ...kafka,
  clientId: 'gatehouse-projector-bench',
  publishTimeoutMs: setting.integer(process.env, 'GATEHOUSE_PUBLISH_TIMEOUT_MS', {
    default: 2000,
    min: 100,
    max: 60_000,
  }),
});
const store = new RedisProjectionStore({
  url: redis.url,
  redis: redis.redis,
  ...(process.env.GATEHOUSE_BENCH_REDIS_PREFIX
    ? { keyPrefix: process.env.GATEHOUSE_BENCH_REDIS_PREFIX }
    : {}),
});
const metrics = processMetrics();
metrics.collectProcessMetrics();
const projector = createProjector({
  bus,
  store,
  groupId: group,
  onError: (error, event) =>
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: 'projection failed; will retry', topic: event.topic, partition: event.partition, offset: event.offset.toString(), error: String(error) })}\n`,
    ),
});
await projector.start();

const server = createServer(
  withMetricsEndpoint((_req, res) => {
    res.statusCode = 404;
    res.end();
  }, metrics),
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
  );
});
const shutdown = () => {
  server.close(async () => {
    await projector.stop();
    await Promise.all([bus.close(), store.close()]);
    process.exit(0);
  });
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
