// The chaos suite's books: which phase each answer fell in, the success rate per phase and
// operation, how long each fault took to recover from, and the table the suite prints.
import type { Op, Sample } from './load.js';

export interface Phase {
  name: string;
  /** `steady`: no fault; `fault`: from the fault's injection until its component was back. */
  kind: 'steady' | 'fault';
  start: number;
  end: number;
  /** For a fault: the operations that need the faulted component (the others must not notice). */
  dependents?: readonly Op[];
  /** For a fault that kills a process serving requests: when the kill was done. */
  killedAt?: number;
  /** For a fault: when its component was restored, and when every operation worked again. */
  restoredAt?: number;
  recoveredAt?: number;
  /** For a fault: from its injection to the last failed answer it caused (0: none failed). */
  disruptedMs?: number;
}

export interface Rate {
  total: number;
  ok: number;
  /** ok / total, 1 when nothing was sent. */
  rate: number;
}

export function rate(samples: readonly Sample[]): Rate {
  const ok = samples.filter((s) => s.ok).length;
  return { total: samples.length, ok, rate: samples.length === 0 ? 1 : ok / samples.length };
}

/**
 * When an answer came: an operation counts in the phase it ended in, since that is when it
 * succeeded or failed (a sign-in started before a fault may fail in it, at its last step).
 */
export const answeredAt = (s: Sample) => s.at + s.ms;

export function samplesIn(samples: readonly Sample[], phase: Phase): Sample[] {
  return samples.filter((s) => answeredAt(s) >= phase.start && answeredAt(s) < phase.end);
}

/**
 * When every operation works again after `from`: the start of the first run of `quietMs` in which
 * every answer succeeded (and at least one came), or undefined when none came within the samples.
 */
export function recoveredAfter(
  samples: readonly Sample[],
  from: number,
  quietMs = 3_000,
): number | undefined {
  const after = samples
    .filter((s) => answeredAt(s) >= from)
    .sort((a, b) => answeredAt(a) - answeredAt(b));
  let runStart: number | undefined;
  for (const sample of after) {
    if (!sample.ok) {
      runStart = undefined;
      continue;
    }
    runStart ??= answeredAt(sample);
    if (answeredAt(sample) - runStart >= quietMs) return runStart;
  }
  return undefined;
}

/** How long after a kill an answer to a request that was in flight to the killed process may come. */
export const inFlightAnswerMs = 1_000;

/**
 * The answers lost with a killed process: started before the kill was done, failed cleanly (a 503
 * from the edge) at most `inFlightAnswerMs` after it. No deployment can answer them otherwise: the
 * edge resends a request to another replica only when it was never sent (a refused connection),
 * never a POST the killed process may have acted on (a code redeemed, a refresh token rotated).
 * Each client has at most one request in flight, so they are at most one per load worker.
 */
export function lostInFlight(samples: readonly Sample[], phase: Phase): Sample[] {
  const { killedAt } = phase;
  if (killedAt === undefined) return [];
  return samples.filter(
    (s) =>
      !s.ok &&
      s.clean &&
      s.status === 503 &&
      s.at < killedAt &&
      answeredAt(s) >= phase.start &&
      answeredAt(s) <= killedAt + inFlightAnswerMs,
  );
}

export interface PhaseVerdict {
  phase: Phase;
  overall: Rate;
  /**
   * The operations that must keep working in this phase, and how they did (the answers lost in
   * flight with a killed process left out).
   */
  required: Rate;
  /** The required answers that failed, for the message of a failed verdict. */
  failed: Sample[];
  /** The answers lost in flight with the process the fault killed (see `lostInFlight`). */
  lost: Sample[];
  requiredOps: readonly Op[];
  byOp: Map<Op, Rate>;
}

export function verdicts(
  samples: readonly Sample[],
  phases: readonly Phase[],
  allOps: readonly Op[],
): PhaseVerdict[] {
  return phases.map((phase) => {
    const lost = lostInFlight(samples, phase);
    const inPhase = samplesIn(samples, phase);
    const judged = inPhase.filter((s) => !lost.includes(s));
    const byOp = new Map(allOps.map((op) => [op, rate(inPhase.filter((s) => s.op === op))]));
    const requiredOps =
      phase.kind === 'fault'
        ? allOps.filter((op) => !(phase.dependents ?? []).includes(op))
        : allOps;
    const required = judged.filter((s) => requiredOps.includes(s.op));
    return {
      phase,
      overall: rate(inPhase),
      required: rate(required),
      failed: required.filter((s) => !s.ok),
      lost,
      requiredOps,
      byOp,
    };
  });
}

/** The failed answers of a verdict, one per line: what, when after the phase began, and why. */
export function describeFailures(verdict: PhaseVerdict, max = 10): string {
  return verdict.failed
    .slice(0, max)
    .map((s) =>
      `${s.op} sent at +${s.at - verdict.phase.start} ms, answered after ${s.ms} ms: ${s.status} ${s.detail ?? ''}`.trim(),
    )
    .join('\n');
}

const percent = (r: Rate) =>
  r.total === 0 ? '   -  ' : `${(r.rate * 100).toFixed(1).padStart(5)}%`;

/** The table of the suite: one line per phase, one column per operation. */
export function formatTable(list: readonly PhaseVerdict[], allOps: readonly Op[]): string {
  const head = [
    'phase'.padEnd(34),
    'secs',
    ...allOps.map((op) => op.slice(0, 8).padStart(8)),
    '  required',
    ' felt for',
    '  back after repair',
    ' lost in flight',
  ].join(' ');
  const lines = list.map(({ phase, byOp, required, lost }) => {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const felt = phase.kind === 'fault' ? seconds(phase.disruptedMs ?? 0) : '';
    const back =
      phase.kind !== 'fault'
        ? ''
        : phase.recoveredAt === undefined
          ? 'never'
          : seconds(phase.recoveredAt - (phase.restoredAt ?? phase.start));
    return [
      `${phase.kind === 'fault' ? '! ' : '  '}${phase.name}`.padEnd(34),
      ((phase.end - phase.start) / 1000).toFixed(0).padStart(4),
      ...allOps.map((op) => percent(byOp.get(op)!).padStart(8)),
      `${percent(required)} `.padStart(10),
      felt.padStart(9),
      back.padStart(19),
      (phase.killedAt === undefined ? '' : String(lost.length)).padStart(15),
    ].join(' ');
  });
  return [head, ...lines].join('\n');
}
