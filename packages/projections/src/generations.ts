// Blue/green projections (issue 15). Every projector replica projects into the current generation
// of the read models, in a consumer group of that generation. A rebuild builds a new generation
// beside it, from offset 0, without touching the live one (which every replica keeps serving), and
// switches the pointer once the new one has caught up; the replicas then follow it, in the new
// generation's group, which continues where the builder left off. When there is no current
// generation (the store was emptied, or never built), the first replica to take the build lock
// builds one: the read models heal with no one asked to run a command, and readers, which check the
// pointer with every read, refuse to answer (503) rather than read anything until then.
// Generations are versioned (ProjectionRunnerOptions.readModelVersion): a projector whose read
// models changed shape (a new index, say) finds the current generation older than itself and
// builds one of its own version beside it at start; one older than the current generation (a
// rolling upgrade's last replicas) does not project into it, since it would write the old shape.
import { randomUUID } from 'node:crypto';
import type { Generations } from '@gatehouse/projection-store';
import { caughtUpAtKey } from './projection.js';
import { rebuildProjections } from './rebuild.js';
import { type ProjectionRunnerOptions, startRunning } from './runner.js';

/** The shared key a replica holds while it builds a generation. */
export const buildLockKey = 'fs:projector:build-lock';
const buildLockTtlMs = 30_000;

/** The version of the read models in a generation (absent: 1, built before versions existed). */
export const readModelVersionKey = 'rm:read-model-version';

export interface BuildResult {
  generation: string;
  /** The generation it replaced, or null (there was none). */
  replaced: string | null;
  events: number;
  writes: number;
  ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Builds a new generation and makes it current: the events to date in bulk, then a projector in
 * the generation's own group until it has caught up, then the switch. Resolves with undefined when
 * another replica holds the build lock (it is building one). Safe at any time, with any number of
 * replicas projecting into the current generation meanwhile.
 */
export async function buildGeneration(
  options: ProjectionRunnerOptions,
  generations: Generations,
): Promise<BuildResult | undefined> {
  const started = performance.now();
  // The lock is a shared key: the same through the store or any of its generations.
  const base = options.store;
  const holder = randomUUID();
  if (!(await base.setIfAbsent(buildLockKey, holder, { ttlMs: buildLockTtlMs }))) return undefined;
  const keepAlive = setInterval(() => {
    void base
      .compareAndSet(buildLockKey, holder, holder, { ttlMs: buildLockTtlMs })
      .catch(() => {});
  }, buildLockTtlMs / 3);
  keepAlive.unref();
  try {
    const replaced = await generations.current();
    // What a builder that died left behind: no one else builds while the lock is held.
    for (const id of await generations.list()) if (id !== replaced) await generations.drop(id);
    const generation = generations.newId();
    const view = generations.view(generation, 'building');
    const { events, writes } = await rebuildProjections({ ...options, store: view, fresh: true });
    if (options.readModelVersion !== undefined)
      await view.write([
        { op: 'set', key: readModelVersionKey, value: String(options.readModelVersion) },
      ]);
    // Then as a projector of the new generation, until its beacon says it holds everything (it
    // republishes what it applies too: derived streams are at least once, and the old generation's
    // projectors may stop before they reach an event this one applied).
    const running = await startRunning({
      ...options,
      store: view,
      groupId: `${groupOf(options)}.${generation}`,
    });
    try {
      const asked = Date.now();
      while (Number((await view.get(caughtUpAtKey)) ?? '0') < asked) await sleep(25);
    } finally {
      await running.stop();
    }
    if (!(await generations.switch(replaced, generation))) {
      await generations.drop(generation);
      throw new Error('the current generation changed while a new one was built');
    }
    // Readers check the pointer with every read, and the old generation's projectors can no
    // longer write it: it can go at once.
    if (replaced !== null) await generations.drop(replaced);
    return { generation, replaced, events, writes, ms: performance.now() - started };
  } finally {
    clearInterval(keepAlive);
    await base.compareAndSet(buildLockKey, holder, null).catch(() => {});
  }
}

/**
 * Projects into the current generation, following it: a replica that finds it switched moves to
 * the new one, and one that finds none builds it (or waits for the replica that does). Resolves,
 * with what stops it, once it projects.
 */
export async function followGenerations(
  options: ProjectionRunnerOptions,
  generations: Generations,
): Promise<() => Promise<void>> {
  const pollMs = 250;
  let stopped = false;
  let current: { generation: string; running: { stop(): Promise<void> } } | undefined;
  let projecting!: () => void;
  let failed!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    projecting = resolve;
    failed = reject;
  });
  const loop = (async () => {
    while (!stopped) {
      try {
        const generation = await generations.current();
        if (current && current.generation !== generation) {
          await current.running.stop();
          current = undefined;
        }
        if (generation === null) {
          const built = await buildGeneration(options, generations);
          if (!built) await sleep(pollMs); // another replica builds it
          continue;
        }
        if (!current && options.readModelVersion !== undefined) {
          const version = Number(
            (await generations.view(generation, 'live').get(readModelVersionKey)) ?? '1',
          );
          if (version < options.readModelVersion) {
            // Built by an older version: build this version's beside it (or wait for the replica
            // that does), then follow the switch.
            const built = await buildGeneration(options, generations);
            if (!built) await sleep(pollMs);
            continue;
          }
          if (version > options.readModelVersion) {
            // A newer version serves it: this replica waits, started, until it is replaced.
            projecting();
            await sleep(pollMs);
            continue;
          }
        }
        if (!current) {
          current = {
            generation,
            running: await startRunning({
              ...options,
              store: generations.view(generation, 'live'),
              groupId: `${groupOf(options)}.${generation}`,
              onError: (error, event) => {
                // Its generation was replaced: this replica moves on at its next look.
                if (!(error instanceof Error && error.name === 'GenerationReplacedError'))
                  options.onError?.(error, event);
              },
            }),
          };
          projecting();
        }
      } catch (error) {
        // Kafka or Redis away for a moment: look again shortly. Failing before it ever projected
        // fails the start, as a runner without generations does.
        if (!current) {
          stopped = true;
          failed(error);
        }
      }
      await sleep(pollMs);
    }
    await current?.running.stop();
  })();
  await ready;
  return async () => {
    stopped = true;
    await loop;
  };
}

const groupOf = (options: ProjectionRunnerOptions) => options.groupId ?? 'gatehouse.projector';
