// Starts the projector on Kafka and Redis (settings: config.ts). It builds the read models when
// Redis holds none (a first start, or Redis restarted empty) and follows the generation other
// replicas switch to. `--rebuild` builds a new generation from offset 0 beside the live one and
// switches to it: safe at any time, with any number of other replicas running and serving.
import { probeListener, runService } from '@gatehouse/service-runtime';
import { createProjector } from './app.js';
import { readProjectorConfig } from './config.js';

await runService({
  name: 'projector',
  readConfig: readProjectorConfig,
  async start({ config, bus, store, log, readiness, onShutdown, listen }) {
    const projector = createProjector({
      bus,
      store,
      onError: (error, event) =>
        log({
          level: 'error',
          message: 'projection failed; will retry',
          topic: event.topic,
          partition: event.partition,
          offset: event.offset.toString(),
          error: String(error),
        }),
    });
    // Probes (started, Redis, Kafka and its consumers: ready once it consumes, a rebuild first
    // runs before it) and /metrics, from the start: a long rebuild is alive, not ready.
    const server = await listen(
      probeListener(readiness),
      config.port,
      config.bindAddress,
      'GATEHOUSE_PROJECTOR_PORT',
    );
    if (process.argv.includes('--rebuild')) {
      const result = await projector.rebuild();
      log({
        level: 'info',
        message: 'rebuilt read models',
        events: result.events,
        ms: Math.round(result.ms),
      });
    }
    await projector.start();
    onShutdown(() => projector.stop());
    const address = server.address();
    return {
      message: 'consuming',
      topics: config.topics.map((topic) => topic.name),
      port: typeof address === 'object' && address ? address.port : config.port,
    };
  },
});
