// Starts the token service on Kafka and Redis, from environment variables (see config.ts).
import { ConfigError } from '@gatehouse/config';
import { ensureTopicsAtStart, KafkaEventBus } from '@gatehouse/event-bus';
import { grpcAddress } from '@gatehouse/internal-plane';
import { GenerationalStore, RedisProjectionStore } from '@gatehouse/projection-store';
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createTokenService, readTokenConfig, serveTokenService } from './app.js';

let config: ReturnType<typeof readTokenConfig>;
try {
  config = readTokenConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`token: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-token',
  publishTimeoutMs: config.publishTimeoutMs,
});
// The read models in generations: readers follow the current one, the projector builds and heals them.
const store = new GenerationalStore(
  new RedisProjectionStore({ url: config.redis.url, redis: config.redis.redis }),
);
await ensureTopicsAtStart(bus, config.topics, 'token');
const ring = new KeyRing(storeKeySource(store), config.keks);
await ring.follow(bus);
// One budget for every token replica.
const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
const service = createTokenService({
  bus,
  store,
  ring,
  tenancy: config.tenancy,
  maxProjectionLagMs: config.maxProjectionLagMs,
  rateLimiter,
  trustedProxies: config.trustedProxies,
});
await service.start();
const { app, tokenService } = service;
const grpc = await serveTokenService(
  tokenService,
  grpcAddress(config.bindAddress, config.grpcPort),
  config.grpcTls,
);
const server = app.listen(config.port, config.bindAddress, () => {
  process.stdout.write(
    `${JSON.stringify({ service: 'token', level: 'info', message: 'listening', port: config.port, grpcPort: grpc.port })}\n`,
  );
});

const shutdown = () => {
  server.close(async () => {
    await grpc.close();
    await service.stop();
    await rateLimiter.close();
    await ring.close();
    await bus.close();
    await store.close();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
