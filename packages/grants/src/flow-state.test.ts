import { describe, expect, it } from 'vitest';
import {
  bindingDigestOfTokenId,
  grantIdOfTokenId,
  newGrantId,
  newTokenId,
  randomId128,
} from './flow-state.js';

describe('grant and token ids', () => {
  it('hands out 128-bit ids that never repeat, across refills of the random pool', () => {
    // 256 ids per pool: ten pools' worth.
    const ids = Array.from({ length: 2_560 }, () => randomId128());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // The bits are spread: every base64url position takes many values.
    for (let position = 0; position < 21; position++)
      expect(new Set(ids.map((id) => id[position])).size).toBeGreaterThan(50);
  });

  it('carries the grant and the binding digest in a token id, and reads them back', () => {
    const grantId = newGrantId();
    const jti = newTokenId('AT', grantId, 'abcdefghijkl');
    expect(grantIdOfTokenId(jti)).toBe(grantId);
    expect(bindingDigestOfTokenId(jti)).toBe('abcdefghijkl');
    expect(newTokenId('AT', grantId, 'abcdefghijkl')).not.toBe(jti);
  });
});
