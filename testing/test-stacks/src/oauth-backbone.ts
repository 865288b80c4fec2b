// What every OAuth service suite runs on: a fresh bus and store of the stack with every topic, the
// projector of all the read models the OAuth services read, and a key ring following key events.
import { randomUUID } from 'node:crypto';
import { directoryProjection, type TenancyConfig } from '@gatehouse/directory';
import { allTopics } from '@gatehouse/events';
import { grantsProjection, invalidationProjection } from '@gatehouse/grants';
import { ProjectionRunner, type ProjectionRunnerOptions } from '@gatehouse/projections';
import {
  KeyRing,
  keysProjection,
  newKekSetting,
  parseKeks,
  storeKeySource,
} from '@gatehouse/signing-keys';
import type { TestStack } from './stacks.js';

/** The tenancy of every suite: path mode under http://localhost:9000. */
export const testTenancy: TenancyConfig = {
  mode: 'path',
  publicUrl: new URL('http://localhost:9000'),
};

/** The projections the OAuth services' read models come from. */
export const oauthProjections = [
  directoryProjection,
  keysProjection,
  grantsProjection,
  invalidationProjection,
];

/**
 * Starts the backbone; `cleanups` gets what stops it, in order. `now`: the projector's clock (its
 * caught-up beacon), the one a test gives the services too, so that moving it ages the read models.
 */
export async function startOAuthBackbone(
  stack: TestStack,
  cleanups: (() => Promise<void>)[],
  options: Pick<ProjectionRunnerOptions, 'beforeApply' | 'now'> = {},
) {
  const { bus, store, rateLimiter, close } = await stack.open();
  cleanups.push(close);
  await bus.ensureTopics(allTopics.map((name) => ({ name })));
  const runner = await ProjectionRunner.start({
    bus,
    store,
    projections: oauthProjections,
    groupId: `projector-${randomUUID()}`,
    ...options,
  });
  cleanups.push(() => runner.stop());
  const keks = parseKeks(newKekSetting('kek-test'));
  const ring = new KeyRing(storeKeySource(store), keks);
  await ring.follow(bus);
  cleanups.push(() => ring.close());
  /** What the services logged, one JSON line each. */
  const logs: string[] = [];
  const log = (entry: unknown) => {
    logs.push(JSON.stringify(entry));
  };
  return { bus, store, rateLimiter, runner, keks, ring, logs, log };
}
