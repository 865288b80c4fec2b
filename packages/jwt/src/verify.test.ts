import {
  constants,
  createHmac,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt } from './sign.js';
import { TokenInvalidError } from './token-invalid-error.js';
import { MAX_TOKEN_LENGTH, type VerifyOptions, verifyJwt } from './verify.js';

const NOW = 1_800_000_000_000;
const ISSUER = 'https://acme.gatehouse.test/oauth2/default';
const AUDIENCE = 'api://default';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const key = { kid: 'k1', privateKey };
const options: VerifyOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: (kid) => (kid === 'k1' ? publicKey : undefined),
  now: () => NOW,
};

const claims = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({
  ver: 1,
  jti: 'AT.1',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: NOW / 1000,
  exp: NOW / 1000 + 3600,
  sub: 'alice@example.com',
  ...changes,
});
const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
/** A token with exactly these header and payload texts, RS256-signed (by k1's key by default). */
function rsaSigned(header: string, payload: string | Buffer, signer: KeyObject = privateKey) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), signer).toString('base64url')}`;
}
const K1 = '{"kid":"k1","alg":"RS256"}';
/** The TokenInvalidError reason verifyJwt gives, or 'accepted'; any other exception escapes. */
function outcome(token: unknown, verifyOptions: VerifyOptions = options): string {
  try {
    verifyJwt(token as string, verifyOptions);
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenInvalidError) return error.reason;
    throw error;
  }
}

describe('verifyJwt accepts', () => {
  it('a token signed by signJwt, returning its header and claims', () => {
    const token = signJwt(claims(), key);
    expect(verifyJwt(token, options)).toEqual({
      header: { alg: 'RS256', kid: 'k1' },
      claims: claims(),
    });
  });

  it('a token with typ, returning typ in the header', () => {
    const token = signJwt(claims(), key, { typ: 'JWT' });
    expect(verifyJwt(token, options).header).toEqual({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
  });

  it('an aud array that contains the audience, and any one of several audiences', () => {
    const token = signJwt(claims({ aud: ['other', AUDIENCE] }), key);
    expect(outcome(token)).toBe('accepted');
    const single = signJwt(claims(), key);
    expect(outcome(single, { ...options, audience: ['api://other', AUDIENCE] })).toBe('accepted');
  });

  it('exp a millisecond ahead, nbf equal to now, and iat up to 60 s ahead', () => {
    const edge = claims({ exp: (NOW + 1) / 1000, nbf: NOW / 1000, iat: NOW / 1000 + 60 });
    expect(outcome(signJwt(edge, key))).toBe('accepted');
  });

  it('an expired token within clockToleranceSeconds', () => {
    const token = signJwt(claims({ exp: NOW / 1000 - 20 }), key);
    expect(outcome(token, { ...options, clockToleranceSeconds: 30 })).toBe('accepted');
  });

  it('asks the key source for the kid of the header, and ignores jku and x5u', () => {
    const asked: string[] = [];
    const token = rsaSigned(
      '{"kid":"k1","alg":"RS256","jku":"https://evil.example/jwks","x5u":"https://evil.example"}',
      JSON.stringify(claims()),
    );
    verifyJwt(token, {
      ...options,
      keys: (kid) => {
        asked.push(kid);
        return publicKey;
      },
    });
    expect(asked).toEqual(['k1']);
  });

  it('a token up to MAX_TOKEN_LENGTH characters', () => {
    const base = signJwt(claims({ pad: '' }), key).length;
    const pad = 'x'.repeat(Math.floor(((MAX_TOKEN_LENGTH - base) * 3) / 4) - 2);
    const token = signJwt(claims({ pad }), key);
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH - 8);
    expect(outcome(token)).toBe('accepted');
  });
});

describe('verifyJwt refuses with reason "algorithm"', () => {
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  const jwkBytes = JSON.stringify(publicKey.export({ format: 'jwk' }));
  const hs256 = (secret: string | Buffer, kid = 'k1') => {
    const input = `${b64(`{"kid":"${kid}","alg":"HS256"}`)}.${b64(JSON.stringify(claims()))}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };

  it('alg none, with or without a signature', () => {
    const input = `${b64('{"kid":"k1","alg":"none"}')}.${b64(JSON.stringify(claims()))}`;
    expect(outcome(`${input}.`)).toBe('algorithm');
    expect(outcome(`${input}.${signJwt(claims(), key).split('.')[2]}`)).toBe('algorithm');
  });

  it('HS256 keyed with the RSA public key as PEM (key confusion)', () => {
    expect(outcome(hs256(pem))).toBe('algorithm');
    // Even a key source that hands back the PEM bytes as a secret key gets no chance to be used.
    const secretKeys = { ...options, keys: () => createSecretKey(Buffer.from(pem)) };
    expect(outcome(hs256(pem), secretKeys)).toBe('algorithm');
  });

  it('HS256 keyed with the RSA public key as JWK JSON bytes (key confusion)', () => {
    expect(outcome(hs256(jwkBytes))).toBe('algorithm');
  });

  it('PS256 and RS512 signed with the right RSA key, a lower-case rs256, and no alg', () => {
    const input = `${b64('{"kid":"k1","alg":"PS256"}')}.${b64(JSON.stringify(claims()))}`;
    const pss = sign('sha256', Buffer.from(input), {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
    });
    expect(outcome(`${input}.${pss.toString('base64url')}`)).toBe('algorithm');
    expect(outcome(rsaSigned('{"kid":"k1","alg":"RS512"}', JSON.stringify(claims())))).toBe(
      'algorithm',
    );
    expect(outcome(rsaSigned('{"kid":"k1","alg":"rs256"}', JSON.stringify(claims())))).toBe(
      'algorithm',
    );
    expect(outcome(rsaSigned('{"kid":"k1"}', JSON.stringify(claims())))).toBe('algorithm');
  });
});

describe('verifyJwt refuses with reason "unknown_kid"', () => {
  it('a header without kid, or with an empty or non-string kid', () => {
    for (const header of ['{"alg":"RS256"}', '{"kid":"","alg":"RS256"}', '{"kid":1,"alg":"RS256"}'])
      expect(outcome(rsaSigned(header, JSON.stringify(claims())))).toBe('unknown_kid');
  });

  it('a kid the key source does not know', () => {
    expect(outcome(signJwt(claims(), { kid: 'k9', privateKey }))).toBe('unknown_kid');
  });

  it('a kid whose key cannot verify RS256: EC, secret or RSA under 2048 bits', () => {
    const token = signJwt(claims(), key);
    const unusable = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      createSecretKey(Buffer.alloc(32, 1)),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
    ];
    for (const wrong of unusable)
      expect(outcome(token, { ...options, keys: () => wrong })).toBe('unknown_kid');
  });
});

describe('verifyJwt refuses with reason "signature"', () => {
  it('a payload changed after signing', () => {
    const [header, , signature] = signJwt(claims(), key).split('.');
    const forged = `${header}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${signature}`;
    expect(outcome(forged)).toBe('signature');
  });

  it('a token signed by another key under the same kid', () => {
    expect(outcome(signJwt(claims(), { kid: 'k1', privateKey: otherKey }))).toBe('signature');
  });

  it('an empty, truncated or borrowed signature', () => {
    const [header, payload, signature] = signJwt(claims(), key).split('.');
    const borrowed = signJwt(claims({ jti: 'AT.2' }), key).split('.')[2];
    expect(outcome(`${header}.${payload}.`)).toBe('signature');
    expect(outcome(`${header}.${payload}.${signature!.slice(0, 340)}`)).toBe('signature');
    expect(outcome(`${header}.${payload}.${borrowed}`)).toBe('signature');
  });
});

describe('verifyJwt refuses with reason "issuer"', () => {
  it('another issuer, a near miss, and no iss', () => {
    for (const iss of ['https://evil.example', `${ISSUER}/`, undefined])
      expect(outcome(signJwt(claims({ iss }), key))).toBe('issuer');
  });
});

describe('verifyJwt refuses with reason "audience"', () => {
  it('another audience, an array without it, no aud, and a non-string aud', () => {
    for (const aud of ['api://other', ['a', 'b'], [], undefined, 42, [[AUDIENCE]]])
      expect(outcome(signJwt(claims({ aud }), key))).toBe('audience');
  });
});

describe('verifyJwt refuses with reason "expired"', () => {
  it('exp equal to now and exp in the past', () => {
    expect(outcome(signJwt(claims({ exp: NOW / 1000 }), key))).toBe('expired');
    expect(outcome(signJwt(claims({ exp: NOW / 1000 - 1 }), key))).toBe('expired');
  });

  it('exp past the clock tolerance', () => {
    const token = signJwt(claims({ exp: NOW / 1000 - 31 }), key);
    expect(outcome(token, { ...options, clockToleranceSeconds: 30 })).toBe('expired');
  });

  it('by the default clock, Date.now', () => {
    const { now: _, ...realClock } = options;
    const iat = Math.floor(Date.now() / 1000) - 7200;
    expect(outcome(signJwt(claims({ iat, exp: iat + 3600 }), key), realClock)).toBe('expired');
  });
});

describe('verifyJwt refuses with reason "not_yet_valid"', () => {
  it('nbf in the future, beyond the tolerance', () => {
    const token = signJwt(claims({ nbf: NOW / 1000 + 10 }), key);
    expect(outcome(token)).toBe('not_yet_valid');
    expect(outcome(token, { ...options, clockToleranceSeconds: 10 })).toBe('accepted');
  });

  it('iat further than maxIatAheadSeconds in the future', () => {
    expect(outcome(signJwt(claims({ iat: NOW / 1000 + 61 }), key))).toBe('not_yet_valid');
    const token = signJwt(claims({ iat: NOW / 1000 + 3 }), key);
    expect(outcome(token, { ...options, maxIatAheadSeconds: 0 })).toBe('not_yet_valid');
  });
});

describe('verifyJwt refuses with reason "missing_claim"', () => {
  it('a token without exp, which is always required', () => {
    expect(outcome(signJwt(claims({ exp: undefined }), key))).toBe('missing_claim');
  });

  it('a token without one of requiredClaims', () => {
    const required = { ...options, requiredClaims: ['iat', 'sub', 'cid'] };
    expect(outcome(signJwt(claims(), key), required)).toBe('missing_claim');
    expect(outcome(signJwt(claims({ cid: '0oa1' }), key), required)).toBe('accepted');
    // Inherited properties are not claims.
    const inherited = { ...options, requiredClaims: ['constructor'] };
    expect(outcome(signJwt(claims(), key), inherited)).toBe('missing_claim');
  });
});

describe('verifyJwt refuses with reason "malformed"', () => {
  const [header, payload, signature] = signJwt(claims(), key).split('.') as [
    string,
    string,
    string,
  ];

  it('something that is not a string', () => {
    for (const token of [undefined, null, 42, {}, Buffer.from('a.b.c')])
      expect(outcome(token)).toBe('malformed');
  });

  it('the wrong number of segments', () => {
    for (const token of ['', 'abc', `${header}.${payload}`, `${header}.${payload}.${signature}.x`])
      expect(outcome(token)).toBe('malformed');
    expect(outcome(`${header}.${payload}.${signature}.`)).toBe('malformed');
  });

  it('segments that are not strict base64url', () => {
    expect(outcome(`${header}=.${payload}.${signature}`)).toBe('malformed');
    expect(outcome(`${header}.${payload}+.${signature}`)).toBe('malformed');
    expect(outcome(`${header}.${payload}.${signature.slice(0, -2)}/A`)).toBe('malformed');
    expect(outcome(`${header}.${payload}.${signature}==`)).toBe('malformed');
  });

  it('a signature spelled with different spare bits (the same bytes to a lenient decoder)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const respelled = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(outcome(`${header}.${payload}.${respelled}`)).toBe('malformed');
  });

  it('a header that is not a JSON object', () => {
    for (const text of ['not json', '["RS256"]', '"RS256"', 'null', '{"kid":"k1","alg":"RS256"'])
      expect(outcome(`${b64(text)}.${payload}.${signature}`)).toBe('malformed');
  });

  it('a crit header parameter, even an empty one', () => {
    const crit = '{"kid":"k1","alg":"RS256","b64":false,"crit":["b64"]}';
    expect(outcome(rsaSigned(crit, JSON.stringify(claims())))).toBe('malformed');
    const empty = '{"kid":"k1","alg":"RS256","crit":[]}';
    expect(outcome(rsaSigned(empty, JSON.stringify(claims())))).toBe('malformed');
  });

  it('a typ that is not a string', () => {
    const typ = '{"kid":"k1","alg":"RS256","typ":1}';
    expect(outcome(rsaSigned(typ, JSON.stringify(claims())))).toBe('malformed');
  });

  it('a properly signed payload that is not a JSON object', () => {
    for (const text of ['not json', '[1,2]', '42', 'null', '"alice"', '{"exp":1'])
      expect(outcome(rsaSigned(K1, text))).toBe('malformed');
  });

  it('a properly signed payload that is not UTF-8', () => {
    const latin1 = Buffer.from('{"iss":"caf\xe9"}', 'latin1');
    expect(outcome(rsaSigned(K1, latin1))).toBe('malformed');
  });

  it('exp, nbf or iat that is not a finite number', () => {
    for (const time of [{ exp: '1900000000' }, { nbf: true }, { iat: [1] }])
      expect(outcome(signJwt(claims(time), key))).toBe('malformed');
    const infinite = JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e999');
    expect(outcome(rsaSigned(K1, infinite))).toBe('malformed');
  });

  it('a token longer than MAX_TOKEN_LENGTH, before anything is decoded', () => {
    const token = signJwt(claims({ pad: 'x'.repeat((MAX_TOKEN_LENGTH * 3) / 4) }), key);
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    let asked = false;
    const keys = () => {
      asked = true;
      return publicKey;
    };
    expect(outcome(token, { ...options, keys })).toBe('malformed');
    expect(asked).toBe(false);
  });
});

describe('verifyJwt on arbitrary input', () => {
  it('throws nothing but TokenInvalidError for 5,000 mutations of a valid token', () => {
    const token = signJwt(claims(), key);
    const characters = 'AQgwz09-_.=+/ é{}"';
    let seed = 42;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % below;
    };
    const seen = new Map<string, number>();
    for (let i = 0; i < 5_000; i++) {
      const at = random(token.length);
      const character = characters[random(characters.length)]!;
      const mutated = [
        () => token.slice(0, at) + character + token.slice(at + 1),
        () => token.slice(0, at) + token.slice(at + 1),
        () => token.slice(0, at) + character + token.slice(at),
        () => token.slice(0, at),
        () => token.slice(at),
      ][random(5)]!();
      const result = outcome(mutated);
      seen.set(result, (seen.get(result) ?? 0) + 1);
      if (result === 'accepted') expect(mutated).toBe(token);
    }
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['malformed', 'signature']));
  });

  it('still verifies its own tokens after a flood of headers with made-up kids', () => {
    const [, payload, signature] = signJwt(claims(), key).split('.');
    for (let i = 0; i < 2_000; i++)
      expect(outcome(`${b64(`{"kid":"x${i}","alg":"RS256"}`)}.${payload}.${signature}`)).toBe(
        'unknown_kid',
      );
    expect(outcome(signJwt(claims(), key))).toBe('accepted');
  });
});
