// The clock tests hand to code that takes one (`now: () => number`, as Date.now): a test moves it
// instead of sleeping until the time it needs has passed (STYLE 11: time is a dependency).

export interface TestClock {
  /** Milliseconds since the epoch, as Date.now answers. */
  now(): number;
  /** Moves the clock forward by `ms`; nothing waits. */
  advance(ms: number): void;
}

/**
 * Without `start`: real time plus what the test has advanced it by, so it keeps agreeing with what
 * it is not given to (the store's TTLs, the bus's timestamps, timers) until the test moves it.
 * With `start`: stands still at that instant until the test moves it.
 */
export function testClock(start?: number): TestClock {
  let advanced = 0;
  return {
    now: () => (start ?? Date.now()) + advanced,
    advance: (ms) => {
      if (ms < 0) throw new RangeError('a test clock only moves forward');
      advanced += ms;
    },
  };
}
