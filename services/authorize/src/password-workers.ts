// Password checks' scrypt on worker threads of their own at a lower scheduling priority (nice 5;
// Linux keeps the nice value per thread). A sign-in flood then takes only the CPU that token
// issuance and the rest of the service leave idle, instead of competing with it on libuv's thread
// pool at the same priority. The hash queue (hash-queue.ts) decides how many run at once; there is
// one thread per turn.
import { Worker } from 'node:worker_threads';
import { type ScryptCost, scryptOptions } from '@gatehouse/directory';

/**
 * Above the service's own threads' 0: when a core is contended they get about a third of the
 * weight (CFS: 335 against 1024), idle cores they use in full. (Nice 10 kept /token as steady but
 * made a genuine sign-in under a flood slower, about 0.85 s against 0.55 s, in `pnpm bench:abuse`.)
 */
export const passwordNice = 5;

// Plain CommonJS, evaluated: no file to resolve, the same under tsx, vitest and dist/.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
try { require('node:os').setPriority(workerData.nice); } catch {}
parentPort.on('message', ({ password, salt, options }) => {
  try {
    parentPort.postMessage({ key: scryptSync(password, salt, 32, options) });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

interface Job {
  input: { password: string; salt: Buffer; options: ReturnType<typeof scryptOptions> };
  resolve(key: Buffer): void;
  reject(error: Error): void;
}

export class PasswordWorkers {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly waiting: Job[] = [];
  private closed = false;

  constructor(
    readonly threads: number,
    private readonly nice = passwordNice,
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }

  /** scrypt of `password` (NFC, as password.ts derives it) with the salt and cost of a hash. */
  derive = (password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> => {
    if (this.closed) return Promise.reject(new Error('the password workers are closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({
        input: { password: password.normalize('NFC'), salt, options: scryptOptions(cost) },
        resolve,
        reject,
      });
      this.dispatch();
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0))
      job.reject(new Error('the password workers are closed'));
    const workers = [...this.idle.splice(0), ...this.busy.keys()];
    for (const job of this.busy.values()) job.reject(new Error('the password workers are closed'));
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.threads ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.waiting.shift()!;
      this.busy.set(worker, job);
      worker.postMessage(job.input);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(workerSource, { eval: true, workerData: { nice: this.nice } });
    // An idle worker does not keep the process alive.
    worker.unref();
    worker.on('message', (message: { key?: Uint8Array; error?: string }) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      if (!this.closed) this.idle.push(worker);
      if (message.key) job?.resolve(Buffer.from(message.key));
      else job?.reject(new Error(message.error ?? 'no key'));
      this.dispatch();
    });
    const fail = (error: Error) => {
      // A worker that died is replaced by the next dispatch; its job fails, the others go on.
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      job?.reject(error);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`a password worker exited (${code})`));
    });
    return worker;
  }
}
