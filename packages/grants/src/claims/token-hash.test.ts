import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenHash } from './token-hash.js';

/** OIDC Core 3.1.3.6, step by step: SHA-256 of the ASCII octets, left-most 128 bits, base64url. */
function atHashByTheBook(token: string): string {
  const digest = createHash('sha256').update(Buffer.from(token, 'ascii')).digest();
  const leftHalf = digest.subarray(0, digest.length / 2);
  return leftHalf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

describe('at_hash and c_hash', () => {
  it('given an access token, when hashed, then it is the left half of its SHA-256 in base64url', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJ2ZXIiOjF9.c2lnbmF0dXJl';
    expect(tokenHash(token)).toBe(atHashByTheBook(token));
    expect(tokenHash(token)).toHaveLength(22);
  });

  it("given OIDC Core's own examples (appendix A), when hashed, then they give its at_hash and c_hash", () => {
    expect(tokenHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
    expect(tokenHash('Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk')).toBe(
      'LDktKdoQak3Pk0cnXxCltA',
    );
  });
});
