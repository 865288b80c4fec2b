// Starts the authorize service on Kafka and Redis, from environment variables (see config.ts).
import { ConfigError } from '@gatehouse/config';
import { ensureTopicsAtStart, KafkaEventBus } from '@gatehouse/event-bus';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createAuthorizeService, grpcTokenMinter, readAuthorizeConfig } from './app.js';

let config: ReturnType<typeof readAuthorizeConfig>;
try {
  config = readAuthorizeConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`authorize: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-authorize',
  publishTimeoutMs: config.publishTimeoutMs,
});
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
);
await ensureTopicsAtStart(bus, config.topics, 'authorize');
const ring = new KeyRing(storeKeySource(store), config.keks);
await ring.follow(bus);
const minter = grpcTokenMinter(config.tokenGrpc, config.grpcTls);
// One sign-in budget for every authorize replica.
const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
const service = createAuthorizeService({
  bus,
  store,
  ring,
  tenancy: config.tenancy,
  minter,
  rateLimiter,
  trustedProxies: config.trustedProxies,
});
await service.start();
const server = service.app.listen(config.port, config.bindAddress, () => {
  process.stdout.write(
    `${JSON.stringify({ service: 'authorize', level: 'info', message: 'listening', port: config.port })}\n`,
  );
});

const shutdown = () => {
  server.close(async () => {
    minter.close();
    await service.stop();
    await ring.close();
    await bus.close();
    await store.close();
    await rateLimiter.close();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
