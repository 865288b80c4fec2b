// Password checks in a bounded queue: each costs a full scrypt (~110 ms of CPU), so sign-ins must
// not queue without end behind a flood. At most `concurrency` run at once; at most `maxQueued` wait,
// and one source holds at most `maxPerSource` of the places, so a flood from one address leaves the
// queue to everyone else. What does not fit is refused at once.
import { availableParallelism } from 'node:os';

export interface HashQueueOptions {
  /** Checks running at once. Default: the machine's parallelism (libuv runs scrypt off-thread). */
  concurrency: number;
  /** Checks waiting for a turn, beyond which sign-ins answer 503 at once. Default 32. */
  maxQueued: number;
  /** Running and waiting checks of one source, beyond which it is answered 429. Default 4. */
  maxPerSource: number;
}

export const defaultHashQueueOptions = (): HashQueueOptions => ({
  concurrency: Math.max(1, availableParallelism()),
  maxQueued: 32,
  maxPerSource: 4,
});

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

export class HashQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perSource = new Map<string, number>();
  private refused = 0;
  readonly options: HashQueueOptions;

  constructor(options: Partial<HashQueueOptions> = {}) {
    this.options = { ...defaultHashQueueOptions(), ...options };
  }

  get depth(): HashQueueDepth {
    return {
      running: this.running,
      queued: this.waiting.length,
      maxQueued: this.options.maxQueued,
      refused: this.refused,
    };
  }

  /** Runs `check` in its turn; throws HashQueueFullError at once when there is no place for it. */
  async run<T>(source: string, check: () => Promise<T>): Promise<T> {
    const held = this.perSource.get(source) ?? 0;
    if (held >= this.options.maxPerSource) {
      this.refused++;
      throw new HashQueueFullError('source');
    }
    if (this.running >= this.options.concurrency && this.waiting.length >= this.options.maxQueued) {
      this.refused++;
      throw new HashQueueFullError('busy');
    }
    this.perSource.set(source, held + 1);
    try {
      if (this.running >= this.options.concurrency)
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.running++;
      try {
        return await check();
      } finally {
        // The turn passes to the next waiting check, or the slot frees.
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left === 0) this.perSource.delete(source);
      else this.perSource.set(source, left);
    }
  }
}
