// The token service as `pnpm bench:token` runs it: wired as src/main.ts wires it (Kafka, Redis, a
// key ring following key events, gRPC TokenService beside HTTP), from the same environment
// variables, in a process of its own so that its CPU can be counted alone. It imports the built
// service and packages (dist, which the bench task builds first), as production runs them, unless
// started with --conditions=@gatehouse/source. Two differences, both for the bench: it listens on
// 127.0.0.1 only (HTTP and gRPC), and GATEHOUSE_BENCH_REDIS_PREFIX keeps its read models apart from
// anything else in that Redis. Its port answers GET /metrics too, as runService's does in production
// (serve.ts). It prints one line, {"port":N}, once it listens.
import { KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { raisedRateLimits, redisRateLimiter } from '@gatehouse/rate-limits';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createTokenService, readTokenConfig, serveTokenService } from '@gatehouse/token';
import { serveBench } from './serve.js';

const config = readTokenConfig(process.env);
const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-token-bench',
  publishTimeoutMs: config.publishTimeoutMs,
});
const store = new RedisProjectionStore({
  url: config.redis.url,
  redis: config.redis.redis,
  ...(process.env.GATEHOUSE_BENCH_REDIS_PREFIX
    ? { keyPrefix: process.env.GATEHOUSE_BENCH_REDIS_PREFIX }
    : {}),
});
await bus.ensureTopics(allTopics.map((name) => ({ name })));
const ring = new KeyRing(storeKeySource(store), config.keks);
await ring.follow(bus);
const service = createTokenService({
  bus,
  store,
  ring,
  keks: config.keks,
  tenancy: config.tenancy,
  maxProjectionLagMs: config.maxProjectionLagMs,
  // The limiter as deployed (Redis), its limits raised: the bench's one client sends thousands a second.
  rateLimiter: redisRateLimiter(raisedRateLimits(), {
    ...config.redis,
    keyPrefix: process.env.GATEHOUSE_BENCH_REDIS_PREFIX ?? 'gh:',
  }),
});
await service.start();
const { app, tokenService } = service;
const grpc = await serveTokenService(tokenService, '127.0.0.1:0', config.grpcTls);
serveBench(app, config.port, async () => {
  await grpc.close();
  await service.stop();
  await ring.close();
  await bus.close();
  await store.close();
});
