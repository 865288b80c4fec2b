// The baselines of `pnpm bench:token`, a child process pinned to the servers' core, each measured
// back to back: node:crypto RS256 signatures of a ready-made signing input (a real access token's
// header and payload); jose's verification of a client assertion (private_key_jwt) by a key of a
// local JWK set, as the token service does it; and one Redis round trip of the assertion's replay
// check (SET NX PX through the projection store). Its CPU is the whole process's user + system time
// (getrusage, all threads), as /proc counts the servers'; it answers over IPC.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose';

export type RawSignCommand =
  | { kind?: 'sign'; signingInput: string; privateKeyPem: string; warmup: number; count: number }
  | {
      kind: 'verify';
      /** A client assertion, and the public key it verifies with. */
      jwt: string;
      jwk: JWK;
      clientId: string;
      audience: string;
      warmup: number;
      count: number;
    }
  | { kind: 'redis'; url: string; keyPrefix: string; warmup: number; count: number };

export interface RawSignResult {
  count: number;
  /** CPU-ms per operation (a signature, a verification or a round trip). */
  cpuMsPerSignature: number;
  perSecond: number;
}

/** CPU-ms and wall time of `count` runs of `once` after `warmup` of them, one after another. */
async function timed(
  warmup: number,
  count: number,
  once: () => unknown | Promise<unknown>,
): Promise<RawSignResult> {
  for (let i = 0; i < warmup; i++) await once();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await once();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    count,
    cpuMsPerSignature: (used.user + used.system) / 1000 / count,
    perSecond: (count / ms) * 1000,
  };
}

async function run(command: RawSignCommand): Promise<RawSignResult> {
  if (command.kind === 'verify') {
    const keys = createLocalJWKSet({ keys: [command.jwk] });
    // The assertion's own exp, and a clock tolerance as the service's.
    const options = {
      algorithms: [command.jwk.alg!],
      issuer: command.clientId,
      subject: command.clientId,
      audience: command.audience,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 30,
    };
    return timed(command.warmup, command.count, () => jwtVerify(command.jwt, keys, options));
  }
  if (command.kind === 'redis') {
    const store = new RedisProjectionStore({ url: command.url, keyPrefix: command.keyPrefix });
    try {
      return await timed(command.warmup, command.count, () =>
        store.setIfAbsent(`fs:client-assertion:bench:${randomUUID()}`, '1', { ttlMs: 60_000 }),
      );
    } finally {
      await store.close();
    }
  }
  const key = createPrivateKey(command.privateKeyPem);
  const input = Buffer.from(command.signingInput);
  let sink = 0;
  const result = await timed(command.warmup, command.count, () => {
    sink += sign('sha256', input, key).length;
  });
  if (sink !== (command.warmup + command.count) * 256)
    throw new Error('unexpected signature length');
  return result;
}

if (!process.send) throw new Error('raw-sign: start me with an IPC channel');
process.on('message', (command: RawSignCommand) => {
  run(command).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
