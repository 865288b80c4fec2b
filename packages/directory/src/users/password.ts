// Passwords: the policy a new password must meet, and scrypt hashing (a slow, memory-hard KDF) in
// PHC string form. Only the hash ever leaves this module; it goes into the event.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { FieldProblem } from '../errors.js';

export const passwordPolicySummary =
  'Password requirements were not met. Password requirements: at least 8 characters, a lowercase letter, an uppercase letter, a number, no parts of your username.';

export function checkPasswordPolicy(password: string, login: string): FieldProblem[] {
  const local = login.split('@')[0]!.toLowerCase();
  const ok =
    password.length >= 8 &&
    password.length <= 256 &&
    /[a-z]/.test(password) &&
    /[A-Z]/.test(password) &&
    /[0-9]/.test(password) &&
    !(local.length >= 3 && password.toLowerCase().includes(local));
  return ok ? [] : [{ field: 'password', message: passwordPolicySummary }];
}

/** OWASP's scrypt settings for 32 MiB: N=2^15, r=8, p=3. */
export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}
export const defaultScryptCost: ScryptCost = { log2N: 15, r: 8, p: 3 };

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      32,
      { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

export async function hashPassword(
  password: string,
  cost: ScryptCost = defaultScryptCost,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `$scrypt$ln=${cost.log2N},r=${cost.r},p=${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match =
    /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(
      phc,
    );
  if (!match) return false;
  const expected = Buffer.from(match[5]!, 'base64url');
  const key = await derive(password, Buffer.from(match[4]!, 'base64url'), {
    log2N: Number(match[1]),
    r: Number(match[2]),
    p: Number(match[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
