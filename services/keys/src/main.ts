// Starts the keys service on Kafka and Redis, from environment variables (see config.ts).
import { grpcAddress } from '@gatehouse/internal-plane';
import { portFailure, runService } from '@gatehouse/service-runtime';
import { createKeysService, readKeysConfig, serveKeyService } from './app.js';

await runService({
  name: 'keys',
  readConfig: readKeysConfig,
  async start({ config, bus, store, readiness, onShutdown, listen }) {
    const keys = createKeysService({
      bus,
      store,
      keks: config.keks,
      tenancy: config.tenancy,
      rotationPeriodMs: config.rotationPeriodMs,
      maxTokenLifetimeMs: config.maxTokenLifetimeMs,
      jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
      readYourWritesMs: config.readYourWritesMs,
      keyPool: config.keyPool,
      readiness,
    });
    await keys.start();
    onShutdown(() => keys.stop());
    const grpc = await serveKeyService(
      keys.keyService,
      grpcAddress(config.bindAddress, config.grpcPort),
      config.grpcTls,
    ).catch((error: unknown) => {
      throw portFailure(error, config.grpcPort, config.bindAddress, 'GATEHOUSE_KEYS_GRPC_PORT');
    });
    onShutdown(() => grpc.close());
    await listen(keys.app, config.port, config.bindAddress, 'GATEHOUSE_KEYS_PORT');
    return { port: config.port, grpcPort: grpc.port };
  },
});
