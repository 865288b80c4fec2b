import { MemoryProjectionStore } from '@gatehouse/projection-store';
import { newKekSetting, parseKeks } from '@gatehouse/signing-keys';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpopNonces } from './nonces.js';
import { accessTokenHash, dpopHeaderOf, verifyDpopProof } from './proof.js';

const url = 'https://id.example.com/acme/oauth2/default/v1/token';
const now = 1_800_000_000_000;
const nowSeconds = now / 1000;

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
const pairs = new Map<string, Pair>();
beforeAll(async () => {
  for (const alg of ['ES256', 'RS256', 'PS256'])
    pairs.set(alg, await generateKeyPair(alg, { extractable: true }));
  pairs.set('other', await generateKeyPair('ES256', { extractable: true }));
});

async function proof(
  options: {
    alg?: string;
    pair?: string;
    claims?: JWTPayload;
    header?: Record<string, unknown>;
    jwk?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const alg = options.alg ?? 'ES256';
  const pair = pairs.get(options.pair ?? alg)!;
  const jwk = options.jwk ?? (await exportJWK(pair.publicKey));
  return new SignJWT({
    htm: 'POST',
    htu: url,
    iat: nowSeconds,
    jti: crypto.randomUUID(),
    ...options.claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk, ...options.header })
    .sign(pair.privateKey);
}

const deps = () => ({ store: new MemoryProjectionStore(), tenant: 'acme' });
const request = { method: 'POST', url, now };

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught as { error: string; description: string; headers: object },
  );
  expect(error, 'the proof was accepted').toBeDefined();
  return error!;
}

describe('DPoP proofs (RFC 9449 section 4.3)', () => {
  it.each(['ES256', 'RS256', 'PS256'])(
    'accepts a %s proof and gives its key’s RFC 7638 thumbprint',
    async (alg) => {
      const verified = await verifyDpopProof(await proof({ alg }), request, deps());
      expect(verified.jkt).toBe(
        await calculateJwkThumbprint(await exportJWK(pairs.get(alg)!.publicKey)),
      );
    },
  );

  it('takes each proof once, shared through the store', async () => {
    const shared = deps();
    const one = await proof();
    await verifyDpopProof(one, request, shared);
    const error = await refusal(verifyDpopProof(one, request, shared));
    expect(error).toMatchObject({
      error: 'invalid_dpop_proof',
      description: 'The DPoP proof has already been used.',
    });
    // Another store (another deployment) has not seen it.
    await expect(verifyDpopProof(one, request, deps())).resolves.toBeDefined();
  });

  it.each([
    ['a wrong htm', { claims: { htm: 'GET' } }, 'htm claim must be POST'],
    ['a wrong htu', { claims: { htu: 'https://id.example.com/acme/oauth2/v1/token' } }, 'htu'],
    [
      'another host',
      { claims: { htu: 'https://evil.example.com/acme/oauth2/default/v1/token' } },
      'htu',
    ],
    ['an old iat', { claims: { iat: nowSeconds - 61 } }, 'iat must be within 60 seconds'],
    ['a future iat', { claims: { iat: nowSeconds + 61 } }, 'iat must be within 60 seconds'],
    ['no jti', { claims: { jti: '' } }, 'jti claim'],
    ['a wrong typ', { header: { typ: 'JWT' } }, 'typ header must be dpop+jwt'],
    [
      'a private jwk',
      { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' } },
      'must be a public key',
    ],
  ] as const)('refuses %s', async (_name, options, message) => {
    const error = await refusal(verifyDpopProof(await proof(options), request, deps()));
    expect(error.error).toBe('invalid_dpop_proof');
    expect(error.description).toContain(message);
  });

  it('refuses a proof signed by a key other than its jwk', async () => {
    const jwk = await exportJWK(pairs.get('other')!.publicKey);
    const error = await refusal(verifyDpopProof(await proof({ jwk }), request, deps()));
    expect(error.description).toContain('signature does not verify');
  });

  it('refuses symmetric, unsigned and unknown algorithms', async () => {
    const [header, payload, signature] = (await proof()).split('.');
    for (const alg of ['HS256', 'none', 'ES384']) {
      const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header!, 'base64url').toString()), alg })).toString('base64url')}.${payload}.${signature}`;
      const error = await refusal(verifyDpopProof(forged, request, deps()));
      expect(error.description).toContain('must be signed with one of RS256, PS256, ES256');
    }
  });

  it('refuses what is not a JWT', async () => {
    for (const text of ['', 'a.b', 'a.b.c', `${'x'.repeat(9000)}.a.b`]) {
      const error = await refusal(verifyDpopProof(text, request, deps()));
      expect(error.error).toBe('invalid_dpop_proof');
    }
  });

  it('compares htu without query or fragment, after normalising case and default port', async () => {
    const htu = 'HTTPS://ID.example.com:443/acme/oauth2/default/v1/token?x=1#f';
    await expect(
      verifyDpopProof(await proof({ claims: { htu } }), request, deps()),
    ).resolves.toBeDefined();
  });

  it('at a resource, requires ath to be the hash of the access token', async () => {
    const at = { ...request, accessToken: 'eyJ.token.here' };
    const missing = await refusal(verifyDpopProof(await proof(), at, deps()));
    expect(missing.description).toContain('must have an ath claim');
    const other = await refusal(
      verifyDpopProof(await proof({ claims: { ath: accessTokenHash('another') } }), at, deps()),
    );
    expect(other.description).toContain('not the hash of this access token');
    await expect(
      verifyDpopProof(
        await proof({ claims: { ath: accessTokenHash('eyJ.token.here') } }),
        at,
        deps(),
      ),
    ).resolves.toBeDefined();
  });

  it('with nonces, answers use_dpop_nonce with a nonce to use, and accepts the proof made with it', async () => {
    const nonces = new DpopNonces(parseKeks(newKekSetting()), { now: () => now });
    const withNonces = { ...deps(), nonces };
    const missing = await refusal(verifyDpopProof(await proof(), request, withNonces));
    expect(missing).toMatchObject({
      error: 'use_dpop_nonce',
      description: 'Authorization server requires nonce in DPoP proof.',
      headers: { 'DPoP-Nonce': nonces.current() },
    });
    const forged = await refusal(
      verifyDpopProof(
        await proof({ claims: { nonce: 'abc.AAAAAAAAAAAAAAAAAAAAAA' } }),
        request,
        withNonces,
      ),
    );
    expect(forged.error).toBe('use_dpop_nonce');
    await expect(
      verifyDpopProof(await proof({ claims: { nonce: nonces.current() } }), request, withNonces),
    ).resolves.toBeDefined();
  });

  it('refuses a DPoP header sent twice', () => {
    expect(() => dpopHeaderOf({ dpop: 'a.b.c, d.e.f' })).toThrow('must be sent once');
    expect(dpopHeaderOf({})).toBeUndefined();
    expect(dpopHeaderOf({ dpop: 'a.b.c' })).toBe('a.b.c');
  });
});

describe('DPoP nonces', () => {
  it('are good for their period and the next, from any replica with the same KEKs', () => {
    const keks = parseKeks(newKekSetting());
    let clock = now;
    const one = new DpopNonces(keks, { now: () => clock, periodMs: 60_000 });
    const other = new DpopNonces(keks, { now: () => clock, periodMs: 60_000 });
    const given = one.current();
    expect(other.valid(given)).toBe(true);
    clock += 60_000;
    expect(other.valid(given)).toBe(true);
    clock += 60_000;
    expect(other.valid(given)).toBe(false);
    expect(new DpopNonces(parseKeks(newKekSetting())).valid(other.current())).toBe(false);
  });

  it('accept a nonce of a KEK that is no longer the current one', () => {
    const old = newKekSetting('kek-1');
    const given = new DpopNonces(parseKeks(old), { now: () => now }).current();
    const rotated = new DpopNonces(parseKeks(`${newKekSetting('kek-2')},${old}`), {
      now: () => now,
    });
    expect(rotated.valid(given)).toBe(true);
    expect(rotated.current()).not.toBe(given);
  });
});
