import { readdirSync, readFileSync } from 'node:fs';
import { hashPassword, verifyPassword } from '@gatehouse/directory';
import { afterEach, describe, expect, it } from 'vitest';
import { PasswordWorkers } from './password-workers.js';

/** The nice value of each thread of this process (Linux: per thread). */
const threadNices = () =>
  readdirSync('/proc/self/task').map((task) =>
    Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]),
  );

describe('PasswordWorkers', () => {
  const opened: PasswordWorkers[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((workers) => workers.close()));
  });

  it('derives the same keys as scrypt on the thread pool, so every hash checks as before', async () => {
    const workers = new PasswordWorkers(2);
    opened.push(workers);
    const cost = { log2N: 12, r: 8, p: 1 };
    const phc = await hashPassword('Correct-Horse-9 é', cost);
    const checks = await Promise.all([
      verifyPassword('Correct-Horse-9 é', phc, workers.derive),
      // The same text in another Unicode normal form is the same password (NFC).
      verifyPassword('Correct-Horse-9 e\u0301', phc, workers.derive),
      verifyPassword('Correct-Horse-9', phc, workers.derive),
      verifyPassword('Correct-Horse-9 é', 'not a hash', workers.derive),
    ]);
    expect(checks).toEqual([true, true, false, false]);
  });

  it('runs at a lower priority than the service, on at most `threads` threads', async () => {
    const before = threadNices().length;
    const workers = new PasswordWorkers(2, 10);
    opened.push(workers);
    const phc = await hashPassword('x', { log2N: 10, r: 8, p: 1 });
    await Promise.all(Array.from({ length: 6 }, () => verifyPassword('x', phc, workers.derive)));
    const nices = threadNices();
    expect(nices.filter((nice) => nice === 10)).toHaveLength(2);
    expect(nices.length - before).toBeLessThanOrEqual(2 * 8);
    expect(Math.min(...nices)).toBe(0);
  });

  it('refuses work once closed', async () => {
    const workers = new PasswordWorkers(1);
    await workers.close();
    await expect(workers.derive('x', Buffer.alloc(16), { log2N: 10, r: 8, p: 1 })).rejects.toThrow(
      'closed',
    );
  });
});
