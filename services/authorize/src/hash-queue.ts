// Password checks in a bounded, fair queue: each costs a full scrypt (~110 ms of CPU per pass; three
// passes at OWASP's settings), so sign-ins must not queue without end behind a flood, and one source
// must not take every turn. At most `concurrency` checks run at once, and one source runs at most
// `maxRunningPerSource` of them, so another source's check always has a turn near; waiting checks
// take turns source by source, so a source's backlog waits behind itself, not in
// front of everyone (the next turn goes to the waiting source served longest ago). A source holds at most `maxPerSource` places (running and waiting) and the
// queue at most `maxQueued` waiting checks: what does not fit is refused at once.
import { availableParallelism } from 'node:os';

export interface HashQueueOptions {
  /**
   * Checks running at once, each on a password worker thread of low priority (password-workers.ts).
   * Default: the cores.
   */
  concurrency: number;
  /** Checks of one source running at once. Default: `concurrency` but one (at least one). */
  maxRunningPerSource: number;
  /** Running and waiting checks of one source, beyond which it is answered 429. Default 4. */
  maxPerSource: number;
  /** Checks waiting for a turn, beyond which sign-ins answer 503 at once. Default 32. */
  maxQueued: number;
}

export function hashQueueOptions(options: Partial<HashQueueOptions> = {}): HashQueueOptions {
  const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
  return {
    concurrency,
    maxRunningPerSource: Math.max(1, concurrency - 1),
    maxPerSource: 4,
    maxQueued: 32,
    ...options,
  };
}

/** The queue had no place: `busy` everyone's is full; `source` this source's share is. */
export class HashQueueFullError extends Error {
  override readonly name = 'HashQueueFullError';
  constructor(readonly reason: 'busy' | 'source') {
    super(reason === 'busy' ? 'the password check queue is full' : 'too many checks of one source');
  }
}

export interface HashQueueDepth {
  running: number;
  queued: number;
  maxQueued: number;
  /** Checks refused since the process started (queue or a source's share full). */
  refused: number;
}

interface Source {
  running: number;
  waiting: (() => void)[];
  /** When it last had a turn (a count of turns given); 0 for never. */
  lastTurn: number;
}

export class HashQueue {
  private running = 0;
  private queued = 0;
  private refused = 0;
  private turns = 0;
  /** Sources with running or waiting checks. */
  private readonly sources = new Map<string, Source>();
  readonly options: HashQueueOptions;

  constructor(options: Partial<HashQueueOptions> = {}) {
    this.options = hashQueueOptions(options);
  }

  get depth(): HashQueueDepth {
    return {
      running: this.running,
      queued: this.queued,
      maxQueued: this.options.maxQueued,
      refused: this.refused,
    };
  }

  /** Runs `check` in its turn; throws HashQueueFullError at once when there is no place for it. */
  async run<T>(sourceId: string, check: () => Promise<T>): Promise<T> {
    const source = this.sources.get(sourceId) ?? { running: 0, waiting: [], lastTurn: 0 };
    if (source.running + source.waiting.length >= this.options.maxPerSource) {
      this.refused++;
      throw new HashQueueFullError('source');
    }
    const mayRun =
      this.running < this.options.concurrency &&
      source.running < this.options.maxRunningPerSource &&
      source.waiting.length === 0;
    if (!mayRun && this.queued >= this.options.maxQueued) {
      this.refused++;
      throw new HashQueueFullError('busy');
    }
    this.sources.set(sourceId, source);
    if (mayRun) {
      this.running++;
      source.running++;
      source.lastTurn = ++this.turns;
    } else {
      this.queued++;
      // Started by `next`, which counts it as running before it resolves.
      await new Promise<void>((resolve) => source.waiting.push(resolve));
    }
    try {
      return await check();
    } finally {
      this.running--;
      source.running--;
      if (source.running === 0 && source.waiting.length === 0) this.sources.delete(sourceId);
      this.next();
    }
  }

  /** Gives free turns to waiting checks: each to the waiting source served longest ago. */
  private next(): void {
    while (this.running < this.options.concurrency && this.queued > 0) {
      let chosen: Source | undefined;
      for (const source of this.sources.values()) {
        if (source.waiting.length === 0 || source.running >= this.options.maxRunningPerSource)
          continue;
        if (!chosen || source.lastTurn < chosen.lastTurn) chosen = source;
      }
      if (!chosen) return;
      const start = chosen.waiting.shift()!;
      this.queued--;
      this.running++;
      chosen.running++;
      chosen.lastTurn = ++this.turns;
      start();
    }
  }
}
