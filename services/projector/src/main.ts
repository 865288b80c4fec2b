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
  async start({ config, bus, store, log, onShutdown, listen }) {
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
    if (process.argv.includes('--rebuild')) {
      const result = await projector.rebuild();
      log({
        level: 'info',
        message: 'rebuilt read models',
        events: result.events,
        ms: Math.round(result.ms),
      });
    }
    let consuming = false;
    // Probes and metrics only; ready once it consumes (a rebuild first runs before).
    const server = await listen(
      probeListener(async () => ({ ready: consuming, consuming })),
      config.port,
      config.bindAddress,
    );
    await projector.start();
    consuming = true;
    onShutdown(() => {
      consuming = false;
      return projector.stop();
    });
    const address = server.address();
    return {
      message: 'consuming',
      topics: config.topics.map((topic) => topic.name),
      port: typeof address === 'object' && address ? address.port : config.port,
    };
  },
});
