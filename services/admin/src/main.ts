// Starts the admin service on Kafka and Redis, from environment variables (see config.ts).

import { ConfigError } from '@gatehouse/config';
import { ensureTopicsAtStart, KafkaEventBus } from '@gatehouse/event-bus';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { createAdminApp } from './app.js';
import { readAdminConfig } from './config.js';

let config: ReturnType<typeof readAdminConfig>;
try {
  config = readAdminConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`admin: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-admin',
  publishTimeoutMs: config.publishTimeoutMs,
});
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
);
await ensureTopicsAtStart(bus, config.topics, 'admin');
const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
const app = createAdminApp({
  bus,
  store,
  tenancy: config.tenancy,
  adminTokenSha256: config.adminTokenSha256,
  readYourWritesMs: config.readYourWritesMs,
  // One budget per API token for every admin replica.
  rateLimiter,
});
const server = app.listen(config.port, config.bindAddress, () => {
  process.stdout.write(
    `${JSON.stringify({ service: 'admin', level: 'info', message: 'listening', port: config.port })}\n`,
  );
});

const shutdown = () => {
  server.close(async () => {
    await bus.close();
    await store.close();
    await rateLimiter.close();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
