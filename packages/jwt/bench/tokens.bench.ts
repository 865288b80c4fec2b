// `pnpm bench:tokens`: RS256 signing and verification through this library next to raw node:crypto
// on the same access token in the same run, with jose's rates as extra rows for information. Rates
// are single-threaded, one operation at a time. Each measure runs in short rounds, each round right
// beside a raw round; a row reports its median round, and "vs raw" the median of the per-round
// ratios, so that a noisy neighbour slows both sides alike. Bounded: about 30 s.
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { publicJwkOf, signJwt, verifyJwt } from '../src/index.js';

const ROUNDS = 15;
const ROUND_MS = 200;
const WARMUP_MS = 300;
const TARGET = 0.9;

const deadline = setTimeout(() => {
  console.error('bench:tokens: stopped after 2 minutes');
  process.exit(2);
}, 2 * 60_000);
deadline.unref();

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'bench-key-1';
const issuer = 'https://acme.gatehouse.example/oauth2/default';
const audience = 'api://default';
const iat = Math.floor(Date.now() / 1000);
// An Okta-shaped access token, claims in Okta's order.
const claims = {
  ver: 1,
  jti: `AT.${randomBytes(32).toString('base64url')}`,
  iss: issuer,
  aud: audience,
  iat,
  exp: iat + 3600,
  cid: '0oa8f5j3ecb5w3dF35d7',
  uid: '00u1v5xqx6nVbBDeT5d7',
  scp: ['openid', 'profile', 'email', 'offline_access'],
  auth_time: iat,
  sub: 'alice@example.com',
};
const signingKey = { kid, privateKey };
const token = signJwt(claims, signingKey);
const lastDot = token.lastIndexOf('.');
// The raw rows get the bytes ready-made: the cost of the RSA operation and nothing else.
const signingInputBytes = Buffer.from(token.slice(0, lastDot));
const signatureBytes = Buffer.from(token.slice(lastDot + 1), 'base64url');
const keys = new Map([[kid, publicKey]]);
const verifyOptions = { issuer, audience, keys: (k: string) => keys.get(k) };
const jwks = createLocalJWKSet({ keys: [publicJwkOf(kid, publicKey)] });
const joseVerifyOptions = { issuer, audience, algorithms: ['RS256'] };

/** The least any verifier must do with a token string, checking nothing but the signature. */
function uncheckedVerify(compact: string): unknown {
  const first = compact.indexOf('.');
  const second = compact.lastIndexOf('.');
  const signature = Buffer.from(compact.slice(second + 1), 'base64url');
  if (!verify('sha256', Buffer.from(compact.slice(0, second), 'latin1'), publicKey, signature))
    throw new Error('bad signature');
  return JSON.parse(Buffer.from(compact.slice(first + 1, second), 'base64url').toString('utf8'));
}

/** Operations per second of `task`, called back to back (awaited when async) for about `ms`. */
async function rateOf(task: () => unknown, ms: number): Promise<number> {
  let count = 0;
  let elapsed = 0;
  const started = performance.now();
  do {
    for (let i = 0; i < 4; i++) {
      const result = task();
      if (result instanceof Promise) await result;
    }
    count += 4;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (count / elapsed) * 1000;
}

interface Measure {
  name: string;
  task: () => unknown;
}
interface Result {
  name: string;
  rate: number;
  vsRaw: number;
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The first measure is the raw baseline. Each round pairs every other measure with a raw run right
 * beside it, the raw run first in even rounds and second in odd ones, and takes their ratio.
 */
async function measureGroup(measures: Measure[]): Promise<Result[]> {
  for (const { task } of measures) await rateOf(task, WARMUP_MS);
  const [raw, ...others] = measures as [Measure, ...Measure[]];
  const rawRates: number[] = [];
  const rates = others.map(() => [] as number[]);
  const ratios = others.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++)
    for (const [i, { task }] of others.entries()) {
      const rawFirst = round % 2 === 0;
      const before = rawFirst ? await rateOf(raw.task, ROUND_MS) : 0;
      const rate = await rateOf(task, ROUND_MS);
      const rawRate = rawFirst ? before : await rateOf(raw.task, ROUND_MS);
      rawRates.push(rawRate);
      rates[i]!.push(rate);
      ratios[i]!.push(rate / rawRate);
    }
  return [
    { name: raw.name, rate: median(rawRates), vsRaw: 1 },
    ...others.map(({ name }, i) => ({ name, rate: median(rates[i]!), vsRaw: median(ratios[i]!) })),
  ];
}

// Every path must agree before anything is timed.
if (!verify('sha256', signingInputBytes, publicKey, signatureBytes)) throw new Error('raw verify');
uncheckedVerify(token);
verifyJwt(token, verifyOptions);
await jwtVerify(token, jwks, joseVerifyOptions);
verifyJwt(
  await new SignJWT(claims).setProtectedHeader({ kid, alg: 'RS256' }).sign(privateKey),
  verifyOptions,
);

const signing = await measureGroup([
  {
    name: 'raw node:crypto sign of the ready signing input',
    task: () => sign('sha256', signingInputBytes, privateKey),
  },
  { name: 'signJwt: claims to compact JWS', task: () => signJwt(claims, signingKey) },
  {
    name: 'jose SignJWT (information)',
    task: () => new SignJWT(claims).setProtectedHeader({ kid, alg: 'RS256' }).sign(privateKey),
  },
]);
// Verification's baseline is node:crypto's RS256 verification of the same token: the work no
// verifier of a token string can skip (decode the signature, verify the signing input, decode the
// claims), with no check at all. The RSA operation on ready-made bytes is shown too, for what it is:
// on this kind of machine, that decoding alone costs 10-20% of it.
const verification = await measureGroup([
  {
    name: 'raw node:crypto RS256 verify of the token (decode, verify, JSON.parse)',
    task: () => uncheckedVerify(token),
  },
  { name: 'verifyJwt: compact JWS to checked claims', task: () => verifyJwt(token, verifyOptions) },
  {
    name: 'node:crypto verify of ready-made bytes, RSA only (information)',
    task: () => verify('sha256', signingInputBytes, publicKey, signatureBytes),
  },
  {
    name: 'jose jwtVerify with the KeyObject (information)',
    task: () => jwtVerify(token, publicKey, joseVerifyOptions),
  },
  {
    name: 'jose jwtVerify with createLocalJWKSet (information)',
    task: () => jwtVerify(token, jwks, joseVerifyOptions),
  },
]);
const rsaOnly = verification[2]!;
const verifyVsRsaOnly = verification[1]!.rate / rsaOnly.rate;

interface Row {
  measure: string;
  rate: string;
  vsRaw: string;
}
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const rows: Row[] = [...signing, ...verification].map(({ name, rate, vsRaw }) => ({
  measure: name,
  rate: `${Math.round(rate).toLocaleString('en')}/s`,
  vsRaw: name.startsWith('raw ') ? 'baseline' : percent(vsRaw),
}));
const header: Row = { measure: 'measure', rate: 'rate', vsRaw: 'vs raw' };
const widths = { measure: 0, rate: 0, vsRaw: 0 };
for (const row of [header, ...rows])
  for (const key of Object.keys(widths) as (keyof Row)[])
    widths[key] = Math.max(widths[key], row[key].length);
const line = (r: Row) =>
  `| ${r.measure.padEnd(widths.measure)} | ${r.rate.padStart(widths.rate)} | ${r.vsRaw.padStart(widths.vsRaw)} |`;
console.log(
  `\nbench:tokens on ${process.version}, RSA-2048, a ${token.length}-character access token, one operation at a time, median of ${ROUNDS} rounds of ${ROUND_MS} ms, ${new Date().toISOString()}`,
);
console.log(line(header));
console.log(
  `| ${'-'.repeat(widths.measure)} | ${'-'.repeat(widths.rate - 1)}: | ${'-'.repeat(widths.vsRaw - 1)}: |`,
);
for (const row of rows) console.log(line(row));
const signRatio = signing[1]!.vsRaw;
const verifyRatio = verification[1]!.vsRaw;
console.log(
  `\nTarget ${percent(TARGET)} of raw: signJwt ${percent(signRatio)} (${signRatio >= TARGET ? 'met' : 'NOT met'}), verifyJwt ${percent(verifyRatio)} (${verifyRatio >= TARGET ? 'met' : 'NOT met'}).`,
);
console.log(
  `For information: verifyJwt runs at ${percent(verifyVsRsaOnly)} of the bare RSA operation on ready-made bytes.`,
);
