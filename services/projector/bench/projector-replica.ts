// One projector replica as `pnpm bench:projector` runs it: createProjector over Kafka and Redis (the
// read models under BENCH_PROJECTOR_PREFIX, a plain store without generations, so that it starts
// projecting at once rather than building them), in the consumer group BENCH_PROJECTOR_GROUP shared
// with the phase's other replicas. Over IPC it answers `ready` once it is projecting, and `count`
// with the events it has applied (gatehouse_projection_events_applied_total, as production exports
// it) and its own CPU time (process.cpuUsage: every thread).
import { KafkaEventBus } from '@gatehouse/event-bus';
import { processMetrics } from '@gatehouse/metrics';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { createProjector } from '@gatehouse/projector';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`projector-replica: ${name} is not set`);
  return value;
};

const bus = new KafkaEventBus({
  brokers: env('BENCH_KAFKA_BROKERS').split(','),
  clientId: `bench-projector-${process.pid}`,
  log: () => {},
});
const store = new RedisProjectionStore({
  url: env('BENCH_REDIS_URL'),
  keyPrefix: env('BENCH_PROJECTOR_PREFIX'),
});
const projector = createProjector({ bus, store, groupId: env('BENCH_PROJECTOR_GROUP') });
const metrics = processMetrics();

async function applied(): Promise<number> {
  const { values } = await metrics.projectionEventsApplied.get();
  return values.reduce((sum, value) => sum + value.value, 0);
}

if (!process.send) throw new Error('projector-replica: start me with an IPC channel');
process.on('message', (command: { kind: 'ready' | 'count' }) => {
  const answer =
    command.kind === 'ready'
      ? projector.start().then(() => ({ ready: true }))
      : applied().then((events) => {
          const { user, system } = process.cpuUsage();
          return { events, cpuMs: (user + system) / 1000 };
        });
  answer.then(
    (value) => process.send!(value),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
const shutdown = async () => {
  await projector.stop();
  await Promise.all([bus.close(), store.close()]);
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
process.on('disconnect', () => void shutdown());
