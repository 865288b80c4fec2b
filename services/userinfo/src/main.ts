// Starts the userinfo service on Kafka and Redis, from environment variables (see config.ts).
import { runService } from '@gatehouse/service-runtime';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createUserinfoService, readUserinfoConfig } from './app.js';

await runService({
  name: 'userinfo',
  readConfig: readUserinfoConfig,
  async start({ config, bus, store, readiness, onShutdown, listen }) {
    const ring = new KeyRing(storeKeySource(store), config.keks);
    onShutdown(() => ring.close());
    await ring.follow(bus);
    const service = createUserinfoService({
      bus,
      store,
      ring,
      tenancy: config.tenancy,
      maxProjectionLagMs: config.maxProjectionLagMs,
      readiness,
    });
    await service.start();
    onShutdown(() => service.stop());
    await listen(service.app, config.port, config.bindAddress, 'GATEHOUSE_USERINFO_PORT');
    return { port: config.port };
  },
});
