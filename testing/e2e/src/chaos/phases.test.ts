import { describe, expect, it } from 'vitest';
import type { Sample } from './load.js';
import { formatTable, type Phase, recoveredAfter, verdicts } from './phases.js';

const sample = (op: Sample['op'], at: number, ok: boolean): Sample => ({
  op,
  at,
  ms: 1,
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

  it('finds when every operation works again: the first all-good run of the quiet time', () => {
    expect(recoveredAfter(samples, 1_000, 3_000)).toBe(2_000);
    expect(recoveredAfter(samples, 1_000, 10_000)).toBeUndefined();
  });
});
