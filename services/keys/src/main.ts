// Starts the keys service on Kafka and Redis, from environment variables (see config.ts).
import { ConfigError } from '@gatehouse/config';
import { ensureTopicsAtStart, KafkaEventBus } from '@gatehouse/event-bus';
import { grpcAddress } from '@gatehouse/internal-plane';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { createKeysService, readKeysConfig, serveKeyService } from './app.js';

let config: ReturnType<typeof readKeysConfig>;
try {
  config = readKeysConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`keys: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const log = (entry: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ service: 'keys', ...entry })}\n`);
const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-keys',
  publishTimeoutMs: config.publishTimeoutMs,
});
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
);
await ensureTopicsAtStart(bus, config.topics, 'keys');
const keys = createKeysService({
  bus,
  store,
  keks: config.keks,
  tenancy: config.tenancy,
  rotationPeriodMs: config.rotationPeriodMs,
  maxTokenLifetimeMs: config.maxTokenLifetimeMs,
  jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
  readYourWritesMs: config.readYourWritesMs,
  keyPool: config.keyPool,
});
await keys.start();
const grpc = await serveKeyService(
  keys.keyService,
  grpcAddress(config.bindAddress, config.grpcPort),
  config.grpcTls,
);
const server = keys.app.listen(config.port, config.bindAddress, () => {
  log({ level: 'info', message: 'listening', port: config.port, grpcPort: grpc.port });
});

const shutdown = () => {
  server.close(async () => {
    await grpc.close();
    await keys.stop();
    await bus.close();
    await store.close();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
