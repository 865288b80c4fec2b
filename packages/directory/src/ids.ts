// Okta-style ids: a 3-character type prefix (00u user, 00g group, 0oa app/client) and 17 random
// base62 characters; 101 bits of randomness, so they are unguessable and never collide in practice.
import { randomBytes } from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export type IdPrefix = '00u' | '00g' | '0oa' | 'aus' | 'scp' | 'ocl' | '00p' | '0pr';

export function newId(prefix: IdPrefix): string {
  let id = prefix;
  while (id.length < 20) {
    for (const byte of randomBytes(24)) {
      // 248 = 4 * 62: rejecting higher bytes keeps every character equally likely.
      if (byte < 248 && id.length < 20) id += alphabet[byte % 62];
    }
  }
  return id;
}

export const idPattern = /^[0-9A-Za-z]{20}$/;
