// RSA key generation on worker threads (issue 15): ~135 ms of CPU per RSA-2048 key here, so a pool of
// keys is filled across cores, beside a main thread that keeps serving. Each worker generates one key
// at a time and hands the key pair to the main thread (the DER's memory moves, it is not copied),
// which seals it at once (sealKeyMaterial) and wipes it.
import { Worker } from 'node:worker_threads';
import { type KeyMaterial, rsaKeyParameters } from './generate.js';

// Plain CommonJS, evaluated: no file to resolve, the same under tsx, vitest and dist/.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { generateKeyPairSync } = require('node:crypto');
parentPort.on('message', () => {
  try {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', workerData);
    const { n, e } = publicKey.export({ format: 'jwk' });
    const exported = privateKey.export({ format: 'der', type: 'pkcs8' });
    const der = new Uint8Array(exported.length);
    der.set(exported);
    exported.fill(0);
    parentPort.postMessage({ n, e, der }, [der.buffer]);
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

interface Job {
  resolve(material: KeyMaterial): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/** A fixed number of worker threads generating key pairs; jobs beyond them wait their turn. */
export class KeyWorkers {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(
    /** How many threads (and so cores) generate at once. */
    readonly threads: number,
    private readonly parameters: {
      modulusLength: number;
      publicExponent: number;
    } = rsaKeyParameters,
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }

  /** One key pair from the next free thread. */
  generate(): Promise<KeyMaterial> {
    if (this.closed) return Promise.reject(new Error('the key workers are closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every thread; jobs not done are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the key workers are closed'));
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        slot.job?.reject(new Error('the key workers are closed'));
        await slot.worker.terminate();
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((candidate) => !candidate.job);
      if (!slot && this.slots.length < this.threads) slot = this.spawn();
      if (!slot) return;
      slot.job = this.queue.shift()!;
      slot.worker.postMessage('generate');
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerSource, { eval: true, workerData: this.parameters });
    // An idle worker does not keep the process alive.
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (message: Partial<KeyMaterial> & { error?: string }) => {
      const job = slot.job;
      slot.job = undefined;
      if (message.error || !message.der) job?.reject(new Error(message.error ?? 'no key'));
      else job?.resolve({ n: message.n!, e: message.e!, der: message.der });
      this.dispatch();
    });
    const fail = (error: Error) => {
      // A worker that died is replaced by the next dispatch; its job fails, the others go on.
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.job?.reject(error);
      slot.job = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(new Error(`a key worker exited (${code})`));
    });
    this.slots.push(slot);
    return slot;
  }
}
