import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newKekSetting, parseKeks } from './kek.js';
import { KeyRing, keyRingBounds } from './key-ring.js';

describe('KeyRing bounds', () => {
  it('servers without keys (made-up ids) are held up to the bound of misses only', async () => {
    let loads = 0;
    const ring = new KeyRing(
      {
        async load() {
          loads++;
          return { keys: [], revoked: new Set<string>() };
        },
      },
      parseKeks(newKekSetting('kek-test')),
    );
    const servers = 3 * keyRingBounds.maxMisses;
    for (let i = 0; i < servers; i++) {
      const keys = await ring.verificationKeys('acme', `aus${randomBytes(9).toString('hex')}`);
      expect(keys('any-kid')).toBeUndefined();
    }
    expect(loads).toBe(servers);
    expect(ring.size).toBe(keyRingBounds.maxMisses);
    await ring.close();
  });
});
