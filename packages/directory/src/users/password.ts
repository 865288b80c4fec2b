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
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, 32, scryptOptions(cost), (error, key) =>
      error ? reject(error) : resolve(key),
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

/** A PHC string's parts: the salt, the cost and the expected key; undefined when it is not one. */
export function readPasswordHash(
  phc: string,
): { salt: Buffer; cost: ScryptCost; expected: Buffer } | undefined {
  const match =
    /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(
      phc,
    );
  if (!match) return undefined;
  return {
    salt: Buffer.from(match[4]!, 'base64url'),
    cost: { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) },
    expected: Buffer.from(match[5]!, 'base64url'),
  };
}

/** scrypt's parameters for a cost, as node:crypto takes them (the same in a worker thread). */
export function scryptOptions(cost: ScryptCost) {
  const N = 2 ** cost.log2N;
  return { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r };
}

/**
 * Checks a password against a PHC string. `deriveKey` computes the key (default: scrypt on libuv's
 * thread pool); the authorize service passes its low-priority password workers.
 */
export async function verifyPassword(
  password: string,
  phc: string,
  deriveKey: (password: string, salt: Buffer, cost: ScryptCost) => Promise<Buffer> = derive,
): Promise<boolean> {
  const hash = readPasswordHash(phc);
  if (!hash) return false;
  const key = await deriveKey(password, hash.salt, hash.cost);
  return key.length === hash.expected.length && timingSafeEqual(key, hash.expected);
}
