import { afterEach, describe, expect, it, vi } from 'vitest';
import { uuidv7, uuidv7Time } from './uuidv7.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10', () => {
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('encodes the millisecond timestamp it is given, also one earlier than the last id', () => {
    const at = Date.UTC(2026, 10, 23, 9, 30, 0, 123);
    uuidv7(at + 60_000);
    expect(uuidv7Time(uuidv7(at))).toBe(at);
    expect(uuidv7Time(uuidv7(0))).toBe(0);
  });

  it('sorts by creation order within one millisecond, past the 12-bit counter', () => {
    const at = Date.UTC(2026, 10, 23, 10, 0, 0, 0);
    const ids = Array.from({ length: 5000 }, () => uuidv7(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps increasing when the system clock steps back', () => {
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(Date.UTC(2026, 10, 23, 11, 0, 0, 500));
    const before = uuidv7();
    now.mockReturnValue(Date.UTC(2026, 10, 23, 11, 0, 0, 100)); // stepped back 400 ms
    const after = [uuidv7(), uuidv7()];
    expect([before, ...after].sort()).toEqual([before, ...after]);
    expect(uuidv7Time(after[0]!)).toBe(Date.UTC(2026, 10, 23, 11, 0, 0, 500));
  });
});
