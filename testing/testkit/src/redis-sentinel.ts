// A Redis primary, its replica and three Sentinels of a test's own (infra/local/redis.sh start
// --sentinel), for tests that kill the primary and watch a failover.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInfraDir, script } from './infrastructure.js';

export interface RedisSentinelSetup {
  /** `redis+sentinel://h:p,h:p,h:p/gatehouse`, what GATEHOUSE_REDIS_URL takes. */
  url: string;
  dir: string;
  /** The port of the node the Sentinels call primary now. */
  primaryPort(): Promise<number>;
  /** kill -9 of the current primary; resolves with its port. */
  killPrimary(): Promise<number>;
  /** Starts every stopped node again, as a replica of the current primary. */
  restartStopped(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(infraDir = defaultInfraDir): Promise<RedisSentinelSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-redis-sentinel-'));
  const run = (args: string[]) => script(infraDir, 'redis.sh', [...args, '--dir', dir]);
  let started: Record<string, string>;
  try {
    started = await run(['start', '--sentinel']);
  } catch (error) {
    await run(['stop']).catch(() => {});
    throw error;
  }
  const primaryPort = async () => Number((await run(['primary'])).REDIS_PRIMARY_PORT);
  return {
    url: started.REDIS_URL!,
    dir,
    primaryPort,
    killPrimary: async () => {
      const port = await primaryPort();
      await run(['stop', '--role', 'primary', '--kill']);
      return port;
    },
    restartStopped: async () => {
      await run(['restart']);
    },
    stop: async () => {
      await run(['stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
