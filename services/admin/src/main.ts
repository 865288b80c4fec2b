// Starts the admin service on Kafka and Redis, from environment variables (see config.ts).
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { runService } from '@gatehouse/service-runtime';
import { createAdminApp } from './app.js';
import { readAdminConfig } from './config.js';

await runService({
  name: 'admin',
  readConfig: readAdminConfig,
  async start({ config, bus, store, readiness, onShutdown, listen }) {
    // One budget per API token for every admin replica.
    const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
    onShutdown(() => rateLimiter.close());
    const app = createAdminApp({
      bus,
      store,
      tenancy: config.tenancy,
      adminTokenSha256: config.adminTokenSha256,
      keks: config.keks,
      readYourWritesMs: config.readYourWritesMs,
      rateLimiter,
      readiness,
    });
    await listen(app, config.port, config.bindAddress, 'GATEHOUSE_ADMIN_PORT');
    return { port: config.port };
  },
});
