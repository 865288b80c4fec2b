// Starts the userinfo service on Kafka and Redis, from environment variables (see config.ts).
import { ConfigError } from '@gatehouse/config';
import { ensureTopicsAtStart, KafkaEventBus } from '@gatehouse/event-bus';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createUserinfoService, readUserinfoConfig } from './app.js';

let config: ReturnType<typeof readUserinfoConfig>;
try {
  config = readUserinfoConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`userinfo: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-userinfo',
  publishTimeoutMs: config.publishTimeoutMs,
});
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
);
await ensureTopicsAtStart(bus, config.topics, 'userinfo');
const ring = new KeyRing(storeKeySource(store), config.keks);
await ring.follow(bus);
const service = createUserinfoService({
  bus,
  store,
  ring,
  tenancy: config.tenancy,
  maxProjectionLagMs: config.maxProjectionLagMs,
});
await service.start();
const server = service.app.listen(config.port, config.bindAddress, () => {
  process.stdout.write(
    `${JSON.stringify({ service: 'userinfo', level: 'info', message: 'listening', port: config.port })}\n`,
  );
});

const shutdown = () => {
  server.close(async () => {
    await service.stop();
    await ring.close();
    await bus.close();
    await store.close();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
