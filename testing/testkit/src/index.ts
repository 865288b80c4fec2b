// What integration tests import: the Kafka and Redis the global setup found or started, and a
// headless Chromium for browser tests, and mutual TLS certificates for gRPC; and for every test, a
// clock it moves by hand.
import { inject } from 'vitest';
import type { KafkaHandle, RedisHandle } from './infrastructure.js';

export {
  type Browser,
  type BrowserContext,
  chromiumExecutable,
  type LaunchOptions,
  launchChromium,
  type Page,
  saveScreenshot,
  screenshotDir,
} from './browser.js';
export { type TestClock, testClock } from './clock.js';
export { testGrpcCa, testGrpcTls, testGrpcTlsEnv } from './grpc-tls.js';
export {
  acquireInfrastructure,
  brokerControllable,
  freePort,
  type KafkaHandle,
  kafkaPartitionLeader,
  type RedisHandle,
  restartKafka,
  startKafka,
  startKafkaNode,
  stopKafka,
  stopKafkaNode,
  type TestInfrastructure,
} from './infrastructure.js';
export { type LoadResult, type SteadyLoad, steadyLoad } from './keep-alive-load.js';
export { cpuMsOf, cpuOf, type ProcessCpu, pidListeningOn, threadCpuOf } from './process-cpu.js';
export { type RawAnswer, sendRaw } from './raw-http.js';
export { type RedisSentinelSetup, startRedisSentinel } from './redis-sentinel.js';

declare module 'vitest' {
  export interface ProvidedContext {
    gatehouseKafka: KafkaHandle;
    gatehouseRedis: RedisHandle;
  }
}

export function testKafka(): KafkaHandle {
  return inject('gatehouseKafka');
}

export function testRedis(): RedisHandle {
  return inject('gatehouseRedis');
}
