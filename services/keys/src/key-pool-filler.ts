// Keeps the key pool full (issue 15): whenever it holds fewer keys than its target, generates keys on
// worker threads (one key per thread at a time) and adds them; otherwise waits until a key is taken
// or a while has passed (another replica may have taken some). Every replica runs one: together they
// may overshoot the target by a few keys, never by more than their threads.
import type { KeyPool, KeyWorkers } from '@gatehouse/signing-keys';

export interface KeyPoolFillerOptions {
  pool: KeyPool;
  /** The threads that generate; the filler closes them when it stops. */
  workers: KeyWorkers;
  /** How many keys the pool should hold. */
  target: number;
  /** Longest wait before looking at the pool again. Default 1 s. */
  idleMs?: number;
  log?: (entry: { level: 'info' | 'warn'; message: string; [key: string]: unknown }) => void;
}

export class KeyPoolFiller {
  /** Keys this filler added, and when it started. */
  readonly stats = { added: 0, startedAt: 0 };
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: () => void = () => {};

  constructor(private readonly options: KeyPoolFillerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stats.startedAt = performance.now();
    this.loop = this.run();
  }

  /** A key was taken: look at the pool now. */
  taken(): void {
    this.wake();
  }

  /** Stops filling and the worker threads (a key being generated is dropped). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.options.workers.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { pool, workers, target, log } = this.options;
    const idleMs = this.options.idleMs ?? 1000;
    let wasFull = true;
    while (this.running) {
      let missing = 0;
      try {
        missing = target - (await pool.size());
        if (missing > 0) {
          if (wasFull) log?.({ level: 'info', message: 'filling the key pool', missing, target });
          wasFull = false;
          const batch = Math.min(missing, workers.threads);
          await Promise.all(
            Array.from({ length: batch }, async () => {
              const material = await workers.generate();
              await pool.add(material);
              this.stats.added += 1;
            }),
          );
          continue;
        }
        if (!wasFull)
          log?.({ level: 'info', message: 'the key pool is full', size: target - missing });
        wasFull = true;
      } catch (error) {
        if (!this.running) return;
        log?.({
          level: 'warn',
          message: 'could not fill the key pool; trying again',
          error: String(error),
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = () => {};
    }
  }
}
