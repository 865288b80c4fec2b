// The chaos suite's run: steady mixed load on the distributed stack, and one fault after another,
// each held for a while and then repaired, with steady stretches between them. It records the
// phases; judging them is the test file's.
import type { MixedLoad, Op } from './load.js';
import { answeredAt, type Phase, recoveredAfter } from './phases.js';

export interface Fault {
  name: string;
  /** What the fault takes away: the operations that need it may fail, cleanly, while it lasts. */
  dependents: readonly Op[];
  /** How long the fault is left in place before it is repaired. */
  holdMs: number;
  /** Breaks something; resolves with how to repair it. */
  inject(): Promise<() => Promise<void>>;
  /** Runs while the fault holds, after `inject` (e.g. an admin change the faulted part must see). */
  during?(): Promise<void>;
  /**
   * The fault kills a process that serves requests: what was in flight to it at that moment has
   * no answer but a 503 (the edge cannot resend a POST that may have been acted on), and is
   * judged apart (see `lostInFlight`).
   */
  killsInFlight?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScenario(options: {
  load: MixedLoad;
  faults: readonly Fault[];
  baselineMs: number;
  steadyMs: number;
  /** Waits until the deployment says it is whole again (every replica ready). */
  whole(): Promise<void>;
  /** Longest wait for the load to work again after a repair. */
  recoveryTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<Phase[]> {
  const { load } = options;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const phases: Phase[] = [];
  const steady = async (name: string, ms: number) => {
    const start = Date.now();
    await sleep(ms);
    phases.push({ name, kind: 'steady', start, end: Date.now() });
  };
  await steady('baseline', options.baselineMs);
  for (const fault of options.faults) {
    const start = Date.now();
    log(`chaos | ${new Date(start).toISOString()} fault: ${fault.name}`);
    const repair = await fault.inject();
    const injectedAt = Date.now();
    const during = fault.during?.();
    await sleep(fault.holdMs);
    await during;
    const restoredAt = Date.now();
    await repair();
    await options.whole();
    // Every operation working again after the repair, for a few seconds in a row.
    const deadline = Date.now() + (options.recoveryTimeoutMs ?? 60_000);
    let recoveredAt: number | undefined;
    while (Date.now() < deadline) {
      recoveredAt = recoveredAfter(load.samples, restoredAt);
      if (recoveredAt !== undefined) break;
      await sleep(500);
    }
    const end = recoveredAt ?? Date.now();
    // How long the fault was felt: until the last failed answer of its window.
    const failures = load.samples.filter(
      (s) => !s.ok && answeredAt(s) >= start && answeredAt(s) < end,
    );
    const disruptedMs = failures.length === 0 ? 0 : Math.max(...failures.map(answeredAt)) - start;
    log(
      `chaos | ${fault.name}: felt for ${(disruptedMs / 1000).toFixed(1)} s, repaired after ${((restoredAt - start) / 1000).toFixed(1)} s, ${
        recoveredAt === undefined
          ? 'never worked again'
          : `working again ${((recoveredAt - restoredAt) / 1000).toFixed(1)} s after the repair`
      }`,
    );
    phases.push({
      name: fault.name,
      kind: 'fault',
      start,
      end,
      dependents: fault.dependents,
      ...(fault.killsInFlight ? { killedAt: injectedAt } : {}),
      restoredAt,
      disruptedMs,
      ...(recoveredAt === undefined ? {} : { recoveredAt }),
    });
    await steady(`after: ${fault.name}`, options.steadyMs);
  }
  return phases;
}
