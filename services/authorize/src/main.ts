// Starts the authorize service on Kafka and Redis, from environment variables (see config.ts).
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { runService } from '@gatehouse/service-runtime';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createAuthorizeService, grpcTokenMinter, readAuthorizeConfig } from './app.js';

await runService({
  name: 'authorize',
  readConfig: readAuthorizeConfig,
  async start({ config, bus, store, log, readiness, onShutdown, listen }) {
    const ring = new KeyRing(storeKeySource(store), config.keks);
    onShutdown(() => ring.close());
    await ring.follow(bus);
    // One sign-in budget for every authorize replica.
    const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
    onShutdown(() => rateLimiter.close());
    const minter = grpcTokenMinter(config.tokenGrpc, config.grpcTls, 5_000, log);
    onShutdown(() => minter.close());
    // Reported, not required: the token service is shared, and without it only the implicit and
    // hybrid flows fail (503 each); taking every authorize replica out would stop all sign-ins.
    if (minter.channelState) readiness.tokenGrpc = { required: false, check: minter.channelState };
    const service = createAuthorizeService({
      bus,
      store,
      ring,
      keks: config.keks,
      jwksUriHttpLoopback: config.jwksUriHttpLoopback,
      tenancy: config.tenancy,
      minter,
      rateLimiter,
      trustedProxies: config.trustedProxies,
      readiness,
    });
    await service.start();
    onShutdown(() => service.stop());
    await listen(service.app, config.port, config.bindAddress, 'GATEHOUSE_AUTHORIZE_PORT');
    return { port: config.port };
  },
});
