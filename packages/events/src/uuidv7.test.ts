import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from './uuidv7.js';

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10', () => {
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('encodes the millisecond timestamp it was made at', () => {
    const at = Date.UTC(2026, 10, 23, 9, 30, 0, 123);
    expect(uuidv7Time(uuidv7(at))).toBe(at);
  });

  it('sorts by creation order, also within one millisecond and when the clock steps back', () => {
    const at = Date.now();
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(at)),
      uuidv7(at - 10), // clock went backwards: must still sort after
      uuidv7(at + 1),
    ];
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
