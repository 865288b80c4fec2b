import { describe, expect, it } from 'vitest';
import { testClock } from './clock.js';

describe('testClock', () => {
  it('follows real time, moved forward by what the test advanced it by', () => {
    const clock = testClock();
    const before = Date.now();
    clock.advance(60_000);
    const now = clock.now();
    expect(now).toBeGreaterThanOrEqual(before + 60_000);
    expect(now).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('stands still at its start until advanced, and never goes back', () => {
    const clock = testClock(Date.parse('2026-11-23T12:00:00Z'));
    expect(clock.now()).toBe(Date.parse('2026-11-23T12:00:00Z'));
    clock.advance(1000);
    expect(new Date(clock.now()).toISOString()).toBe('2026-11-23T12:00:01.000Z');
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
