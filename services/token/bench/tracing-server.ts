// The token service as `pnpm bench:tracing` runs it, wired as gatehouse-server.ts wires it, in one
// of three variants (BENCH_TRACING):
// - `baseline`: as a build without traces: tracing never started (the SDK never loaded) and the
//   koa tracing middleware taken out of the app, so what is left of tracing on a /token request is
//   the one `tracingOn()` read of a publish;
// - `off`: as deployed with no OTEL_* variables: startTracing from the environment, which is off;
// - `on`: the same with OTEL_EXPORTER_OTLP_ENDPOINT set (the bench's no-op receiver): every request
//   a sampled trace, its spans batched and exported.
import { KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { raisedRateLimits, redisRateLimiter } from '@gatehouse/rate-limits';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createTokenService, readTokenConfig, serveTokenService } from '@gatehouse/token';
import { readTracingConfig, startTracing, type Tracing } from '@gatehouse/tracing';
import { serveBench } from './serve.js';

const variant = process.env.BENCH_TRACING;
if (variant !== 'baseline' && variant !== 'off' && variant !== 'on')
  throw new Error(`BENCH_TRACING: baseline, off or on, not ${variant}`);
const config = readTokenConfig(process.env);
const tracing: Tracing | undefined =
  variant === 'baseline' ? undefined : await startTracing(readTracingConfig(process.env, 'token'));
if ((tracing?.enabled ?? false) !== (variant === 'on'))
  throw new Error(`${variant}: tracing is ${tracing?.enabled ? 'on' : 'off'}`);
const bus = new KafkaEventBus({ ...config.kafka, clientId: 'gatehouse-token-bench' });
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
  rateLimiter: redisRateLimiter(raisedRateLimits(), {
    ...config.redis,
    keyPrefix: process.env.GATEHOUSE_BENCH_REDIS_PREFIX ?? 'gh:',
  }),
});
await service.start();
const { app, tokenService } = service;
if (variant === 'baseline') {
  const before = app.middleware.length;
  app.middleware = app.middleware.filter((middleware) => middleware.name !== 'gatehouseTracing');
  if (app.middleware.length !== before - 1)
    throw new Error('baseline: the tracing middleware was not found in the token app');
}
const grpc = await serveTokenService(tokenService, '127.0.0.1:0', config.grpcTls);
serveBench(app, config.port, async () => {
  await grpc.close();
  await service.stop();
  await ring.close();
  await bus.close();
  await store.close();
  await tracing?.shutdown();
});
