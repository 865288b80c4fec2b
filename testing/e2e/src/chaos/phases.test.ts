import { describe, expect, it } from 'vitest';
import type { Sample } from './load.js';
import { describeFailures, formatTable, type Phase, recoveredAfter, verdicts } from './phases.js';

const sample = (op: Sample['op'], at: number, ok: boolean): Sample => ({
  op,
  at,
  ms: 0,
  ok,
  status: ok ? 200 : 503,
  clean: true,
});

describe('chaos books', () => {
  const samples = [
    sample('token', 0, true),
    sample('userinfo', 10, true),
    sample('token', 1_000, true),
    sample('userinfo', 1_100, false),
    sample('userinfo', 1_500, false),
    sample('userinfo', 2_000, true),
    sample('token', 2_500, true),
    sample('userinfo', 6_000, true),
  ];

  it('judges a fault by the operations that do not need the faulted component', () => {
    const phases: Phase[] = [
      { name: 'steady', kind: 'steady', start: 0, end: 1_000 },
      {
        name: 'projector killed',
        kind: 'fault',
        start: 1_000,
        end: 3_000,
        dependents: ['userinfo'],
      },
    ];
    const [steady, fault] = verdicts(samples, phases, ['token', 'userinfo']);
    expect(steady!.required).toEqual({ total: 2, ok: 2, rate: 1 });
    expect(fault!.overall.rate).toBeCloseTo(3 / 5);
    expect(fault!.requiredOps).toEqual(['token']);
    expect(fault!.required).toEqual({ total: 2, ok: 2, rate: 1 });
    expect(fault!.byOp.get('userinfo')!.ok).toBe(1);
    const table = formatTable([steady!, fault!], ['token', 'userinfo']);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('! projector killed');
  });

  it('names the failed answers a phase is judged by, with when and why', () => {
    const phases: Phase[] = [{ name: 'userinfo paused', kind: 'fault', start: 1_000, end: 3_000 }];
    const [fault] = verdicts(
      [...samples, { ...sample('userinfo', 1_200, false), ms: 4_800, detail: 'stale' }],
      phases,
      ['token', 'userinfo'],
    );
    expect(fault!.failed.map((s) => s.at)).toEqual([1_100, 1_500]);
    expect(describeFailures(fault!).split('\n')).toEqual([
      'userinfo sent at +100 ms, answered after 0 ms: 503',
      'userinfo sent at +500 ms, answered after 0 ms: 503',
    ]);
  });

  it('finds when every operation works again: the first all-good run of the quiet time', () => {
    expect(recoveredAfter(samples, 1_000, 3_000)).toBe(2_000);
    expect(recoveredAfter(samples, 1_000, 10_000)).toBeUndefined();
  });

  it('judges apart what was in flight to a killed process, and only that', () => {
    const at = (
      op: Sample['op'],
      start: number,
      ms: number,
      ok: boolean,
      status = 503,
    ): Sample => ({
      op,
      at: start,
      ms,
      ok,
      status: ok ? 200 : status,
      clean: true,
    });
    const answers = [
      at('token', 900, 50, true),
      // Sent before the kill (done at 1,200), answered 503 as it happened: lost with the process.
      at('sign-in', 100, 1_000, false),
      at('refresh', 1_150, 100, false),
      // Sent after the kill, or failing long after it: the fault's, judged as any failure.
      at('token', 1_300, 20, false),
      at('userinfo', 1_000, 1_500, false),
      // Not a clean 503: judged.
      at('introspect', 1_100, 150, false, 500),
      at('token', 2_000, 10, true),
    ];
    const phase: Phase = {
      name: 'token killed',
      kind: 'fault',
      start: 1_000,
      end: 3_000,
      dependents: [],
      killedAt: 1_200,
    };
    const [verdict] = verdicts(
      answers,
      [phase],
      ['token', 'sign-in', 'refresh', 'userinfo', 'introspect'],
    );
    expect(verdict!.lost.map((s) => s.op)).toEqual(['sign-in', 'refresh']);
    expect(verdict!.required).toEqual({ total: 4, ok: 1, rate: 1 / 4 });
    expect(verdict!.overall.total).toBe(6);
    // A fault that kills nothing loses nothing in flight.
    const { killedAt: _, ...notKilling } = phase;
    expect(verdicts(answers, [notKilling], ['token']).at(0)!.lost).toEqual([]);
    expect(formatTable([verdict!], ['token'])).toMatch(/token killed.* 2$/m);
  });
});
