// The userinfo service as `pnpm bench:validation` runs it: wired as src/main.ts wires it (Kafka,
// Redis, a key ring following key events, the directory followed), from the same environment
// variables, in a process of its own so that its CPU can be counted alone. It imports the built
// service and packages (dist, which the bench task builds first), as production runs them. Two
// differences, both for the bench: it listens on 127.0.0.1 only, and GATEHOUSE_BENCH_REDIS_PREFIX
// keeps its read models apart from anything else in that Redis. It prints one line, {"port":N},
// once it listens.
import { KafkaEventBus } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createUserinfoService, readUserinfoConfig } from '@gatehouse/userinfo';
import { serveBench } from '../../token/bench/serve.js';

const config = readUserinfoConfig(process.env);
const bus = new KafkaEventBus({
  ...config.kafka,
  clientId: 'gatehouse-userinfo-bench',
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
const service = createUserinfoService({
  bus,
  store,
  ring,
  tenancy: config.tenancy,
  maxProjectionLagMs: config.maxProjectionLagMs,
});
await service.start();
serveBench(service.app, config.port, async () => {
  await service.stop();
  await ring.close();
  await bus.close();
  await store.close();
});
