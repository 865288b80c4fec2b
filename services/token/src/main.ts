// Starts the token service on Kafka and Redis, from environment variables (see config.ts).
import { grpcAddress } from '@gatehouse/internal-plane';
import { redisRateLimiter } from '@gatehouse/rate-limits';
import { portFailure, runService } from '@gatehouse/service-runtime';
import { KeyRing, storeKeySource } from '@gatehouse/signing-keys';
import { createTokenService, readTokenConfig, serveTokenService } from './app.js';

await runService({
  name: 'token',
  readConfig: readTokenConfig,
  async start({ config, bus, store, readiness, onShutdown, listen }) {
    const ring = new KeyRing(storeKeySource(store), config.keks);
    onShutdown(() => ring.close());
    await ring.follow(bus);
    // One budget for every token replica.
    const rateLimiter = redisRateLimiter(config.rateLimits, config.redis);
    onShutdown(() => rateLimiter.close());
    const service = createTokenService({
      bus,
      store,
      ring,
      keks: config.keks,
      tenancy: config.tenancy,
      maxProjectionLagMs: config.maxProjectionLagMs,
      rateLimiter,
      trustedProxies: config.trustedProxies,
      jwksUriHttpLoopback: config.jwksUriHttpLoopback,
      readiness,
    });
    await service.start();
    onShutdown(() => service.stop());
    const grpc = await serveTokenService(
      service.tokenService,
      grpcAddress(config.bindAddress, config.grpcPort),
      config.grpcTls,
    ).catch((error: unknown) => {
      throw portFailure(error, config.grpcPort, config.bindAddress, 'GATEHOUSE_TOKEN_GRPC_PORT');
    });
    onShutdown(() => grpc.close());
    await listen(service.app, config.port, config.bindAddress, 'GATEHOUSE_TOKEN_PORT');
    return { port: config.port, grpcPort: grpc.port };
  },
});
