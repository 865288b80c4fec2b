// Read-your-writes (SPEC section 3): after appending events, wait until the projector has applied
// them, by watching the positions it writes with each event's writes.
import type { EventPosition } from '@gatehouse/event-bus';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { caughtUpAtKey, positionKey } from './projection.js';

/** The projector did not apply the events in time; they are appended and will be applied. */
export class ProjectionsBehindError extends Error {
  override readonly name = 'ProjectionsBehindError';
}

export async function waitForProjections(
  store: ProjectionStore,
  positions: readonly EventPosition[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  // Per partition, the highest offset that must be applied.
  const needed = new Map<string, bigint>();
  for (const { topic, partition, offset } of positions) {
    const key = positionKey(topic, partition);
    if ((needed.get(key) ?? -1n) < offset) needed.set(key, offset);
  }
  if (needed.size === 0) return;
  const keys = [...needed.keys()];
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
    const applied = await store.mget(keys);
    if (keys.every((key, i) => applied[i] !== null && BigInt(applied[i]!) >= needed.get(key)!))
      return;
    if (Date.now() + delay > deadline) {
      throw new ProjectionsBehindError(
        `the projector has not applied the change within ${options.timeoutMs ?? 5000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * How far behind the read models are, in ms: the age of the projector's caught-up beacon
 * (caughtUpAtKey), or undefined when no projector has ever written it. For /readyz.
 */
export async function readModelsLagMs(
  store: ProjectionStore,
  now: number = Date.now(),
): Promise<number | undefined> {
  const at = await store.get(caughtUpAtKey);
  return at === null ? undefined : Math.max(0, now - Number(at));
}
