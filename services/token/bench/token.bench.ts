// `pnpm bench:token` (issue 22): CPU-ms per client_credentials token, tokens per second and p50/p99
// latency at 32 requests in flight, of
// - the peer: oidc-provider issuing RS256 JWT access tokens (it logs nothing, keeps nothing);
// - Gatehouse's token service alone: its process, each token's TokensIssued appended to Kafka
//   (acknowledged before the response), read models in Redis;
// - the whole system behind it: the token service + the projector (a process of its own,
//   projector-server.ts) + the Kafka broker + Redis, each process's CPU from the window's start
//   until the projector has applied the window's events, less that process's idle CPU;
// - the all-in-one process (apps/all-in-one, `pnpm start`: every service, the embedded log and
//   in-memory read models in one process; all-in-one.ts), its idle CPU subtracted likewise;
// - the floor: node:http + one RS256 signature per request (no client, policy or event), and, once,
//   node:http answering a ready token; and raw node:crypto RS256 signing, for reference.
// Idle: before each Gatehouse window (once the projector has caught up with the warmup), every
// process of it is watched over an idle window as long as its previous measured window (in the
// first run, as long as the warmup's rate predicts), and its idle CPU per ms of wall time, times the
// measured window's length, is what is subtracted; the idle figures are printed. Events per produce
// request: the token service's (and the all-in-one's) gatehouse_event_publish_batch_events
// histogram from its /metrics, _sum / _count over the window ("n/a" where the service exports no
// such series).
// - the token service again with private_key_jwt (issue 23): a fresh RS256 client assertion in each
//   request's body, verified and its jti taken in Redis; its extra CPU per token over the plain row
//   against jose's verification of an assertion (RS256, PS256, ES256) and one Redis round trip (SET
//   NX PX through the projection store), measured back to back in the same run;
// - the token service again with DPoP (issue 23): the plain row's requests, each with a fresh ES256
//   DPoP proof (RFC 9449) carrying the endpoint's nonce, checked and its jti taken in Redis, the
//   token bound to the proof's key; its extra CPU per token over the plain row against jose's ES256
//   verification and the same Redis round trip;
// Three runs, each measuring every server once (order peer, token service, all-in-one, floor; the
// second run the other way round), on the same core setup: each server a process of its own pinned
// to CPU 0 (taskset), the load generator, the projector, Kafka, Redis and this process on CPU 1; a
// process's CPU is its utime + stime from /proc/<pid>/stat (every thread). The table shows each
// run's figure and the median; ratios to the peer are the median of the runs' own ratios, and the
// output ends with three lines, `token service / peer: R`, `whole system / peer: R`, `all-in-one /
// peer: R` (targets 0.80, 1.00, 0.90 and p99 no worse than the peer's, in the table). Then scaling:
// two token processes sharing one core, in rounds alternating with one alone, and one per core.
// Bounded (fixed request counts, an 8-minute deadline that stops everything), 127.0.0.1 only; every
// child process is stopped by its PID at the end, also on error. The processes, CPU accounting,
// windows and Gatehouse's set-up are bench-kit.ts's.
// GATEHOUSE_BENCH_CPU_PROF=DIR writes a V8 CPU profile of each server there (figures then skew).
import type { ChildProcess } from 'node:child_process';
import {
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyJwt } from '@gatehouse/jwt';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { startAllInOne } from './all-in-one.js';
import {
  ask,
  basic,
  cores,
  cpuPerRequest,
  fixed,
  histogramTotals,
  idleCpu,
  LOAD_CPU,
  type Load,
  listening,
  log,
  type Measured,
  measure,
  measureSystem,
  median,
  peerVersion,
  perSecond,
  pin,
  pinNote,
  pinning,
  pooled,
  pooledCpuPerRequest,
  printTable,
  runBench,
  SERVER_CPU,
  type Server,
  type SystemMeasured,
  setUpGatehouse,
  start,
  stop,
  warmUp,
} from './bench-kit.js';
import type { Target } from './load-generator.js';
import type { RawSignCommand, RawSignResult } from './raw-sign.js';

const RUNS = 3;
/** Requests in flight per server. */
const CONCURRENCY = 32;
const WARMUP_REQUESTS = 1_500;
/** Measured requests per server and run. */
const REQUESTS = 6_000;
/** Scaling: one process alone and two sharing its core, alternately, in rounds of this many per process. */
const ROUNDS = 4;
const ROUND_REQUESTS = 1_500;
const RAW_WARMUP = 300;
const RAW_SIGNATURES = 4_000;
const RAW_VERIFICATIONS = 4_000;
const REDIS_ROUND_TRIPS = 4_000;
const DEADLINE_MS = 10 * 60_000;
/** Issue 22's targets, CPU per token against the peer's (median of the runs). */
const SERVICE_TARGET = 0.8;
const SYSTEM_TARGET = 1.0;
const ALL_IN_ONE_TARGET = 0.9;
/** Two token processes must give at least this factor of one. */
const SCALING_TARGET = 1.8;
/** Events per write to the log (packages/metrics): _sum events, _count produce requests. */
const BATCH_HISTOGRAM = 'gatehouse_event_publish_batch_events';
/** After an all-in-one window, before its CPU is read again: its in-process projector finishes. */
const ALL_IN_ONE_SETTLE_MS = 500;

const body = 'grant_type=client_credentials&scope=orders.read';
/** Every request: a client_credentials grant, answered with a JWT access token. */
const tokenLoad: Load = { body, concurrency: CONCURRENCY };

async function rawSign(child: ChildProcess, signingInput: string, privateKeyPem: string) {
  return ask<RawSignResult>(child, {
    signingInput,
    privateKeyPem,
    warmup: RAW_WARMUP,
    count: RAW_SIGNATURES,
  } satisfies RawSignCommand);
}

/** A JWK's public members. */
function publicJwk(jwk: JWK & { kid: string; alg: string }) {
  const { kty, n, e, kid, alg } = jwk;
  return { kty, n, e, kid, alg, use: 'sig' };
}

/** A private_key_jwt client assertion (RFC 7523), signed RS256 with node:crypto: fast to make. */
function rs256Assertion(key: KeyObject, kid: string, clientId: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid })}.${part({
    iss: clientId,
    sub: clientId,
    aud: audience,
    jti: randomUUID(),
    iat: now,
    exp: now + 900,
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/**
 * `Name: value` header lines of DPoP proofs (RFC 9449) for the token endpoint `htu`, ES256 signed
 * with node:crypto (fast to make), each with its own jti and the endpoint's `nonce`.
 */
function dpopHeaders(key: KeyObject, htu: string, nonce: string, count: number): string[] {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  const header = part({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  const iat = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => {
    const input = `${header}.${part({ htm: 'POST', htu, iat, jti: randomUUID(), nonce })}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `DPoP: ${input}.${signature.toString('base64url')}`;
  });
}

/** One token request outside the measurement, to check the answer before anything is timed. */
async function tokenOnce(
  target: Target,
  form = body,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(target.authorization ? { authorization: target.authorization } : {}),
      ...headers,
    },
    body: form,
  });
  const json = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !json.access_token)
    throw new Error(`${target.path}: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

/** A Gatehouse window: the measured one, the idle one before it, and events per log write in it. */
interface SystemFigures {
  window: SystemMeasured;
  idle: { ms: number; cpuMs: Map<string, number> };
  /** Events and writes to the log (produce requests, embedded batches) over the window. */
  batches: { events: number; writes: number } | undefined;
}

interface RunFigures {
  order: string[];
  peer: Measured;
  floor: Measured;
  gatehouse: SystemFigures;
  /** The token service with private_key_jwt (RS256 client assertions) instead of a secret. */
  assertion: Measured;
  /** The token service with a DPoP proof (ES256) in each request. */
  dpop: Measured;
  allInOne: SystemFigures;
  raw: RawSignResult;
  /** jose's verification of a client assertion, by algorithm. */
  verify: Map<AssertionAlg, RawSignResult>;
  /** One replay check of an assertion's jti: SET NX PX through the projection store. */
  redis: RawSignResult;
}

const assertionAlgs = ['RS256', 'PS256', 'ES256'] as const;
type AssertionAlg = (typeof assertionAlgs)[number];
/** The private_key_jwt row's extra CPU per token over the plain row: at most this many times a
 * verification plus a Redis round trip (issue 23). */
const ASSERTION_TARGET = 1.5;
const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// --- the run -------------------------------------------------------------------------------------

interface Row {
  measure: string;
  rate: string;
  busy: string;
  p50: string;
  p99: string;
  runs: string;
  cpu: string;
  vsPeer: string;
  target: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const row = (fields: Partial<Row> & { measure: string }): Row => ({
  rate: '',
  busy: '',
  p50: '',
  p99: '',
  runs: '',
  cpu: '',
  vsPeer: '',
  target: '',
  ...fields,
});

await runBench(
  'bench:token',
  DEADLINE_MS,
  async ({ infrastructure, kafkaPid, redisPid, kafkaOurs, redisOurs, onCleanUp }) => {
    const keyPrefix = `bench:${randomUUID()}:`;
    const gatehouse = await setUpGatehouse(infrastructure, keyPrefix, { projector: 'process' });
    onCleanUp(gatehouse.close);
    /** The processes behind the token service, by name: its whole system's CPU is theirs too. */
    const behind = new Map<string, number>([['projector', gatehouse.projectorPid!]]);
    if (kafkaPid) behind.set('Kafka broker', kafkaPid);
    if (redisPid) behind.set('Redis', redisPid);
    const missing = ['Kafka broker', 'Redis'].filter((name) => !behind.has(name));

    const gatehouseEnv = { ...gatehouse.env, GATEHOUSE_TOKEN_PORT: '0' };
    const gatehouseTarget = (port: number): Target => ({
      port,
      path: `/${gatehouse.tenant}/oauth2/default/v1/token`,
      authorization: basic(gatehouse.clientId, gatehouse.clientSecret),
    });
    // A second client of the tenant authenticating with private_key_jwt: an RS256 key registered
    // inline, a fresh assertion per request (each jti is taken once).
    const signerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const signerJwk = { ...signerKey.export({ format: 'jwk' }), kid: 'bench-signer', alg: 'RS256' };
    const signer = await gatehouse.fixtures.newClient(gatehouse.tenant, {
      client_name: 'Bench signer',
      application_type: 'service',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [publicJwk(signerJwk)] },
    });
    const issuer = `http://localhost:9000/${gatehouse.tenant}/oauth2/default`;
    const assertionBodies = (count: number) =>
      Array.from(
        { length: count },
        () =>
          `${body}&client_assertion_type=${encodeURIComponent(assertionType)}&client_assertion=${rs256Assertion(signerKey, 'bench-signer', signer.clientId, issuer)}`,
      );
    // DPoP: the plain client, each request with a fresh ES256 proof carrying the endpoint's nonce.
    const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const tokenEndpoint = `${issuer}/v1/token`;
    /** The endpoint's nonce, as its answer to a proof without one gives it (RFC 9449 section 8). */
    const dpopNonce = async (target: Target) => {
      const [line] = dpopHeaders(dpopKey, tokenEndpoint, '', 1);
      const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: target.authorization,
          dpop: line!.slice('DPoP: '.length),
        },
        body,
      });
      const nonce = response.headers.get('dpop-nonce');
      if (!nonce) throw new Error(`DPoP nonce: ${response.status} ${await response.text()}`);
      return nonce;
    };
    const startGatehouse = async (cpu: string, name: string): Promise<Server> => {
      const child = start('gatehouse-server.ts', { cpu, env: gatehouseEnv, profile: true });
      return { name, child, target: gatehouseTarget(await listening(child, name)) };
    };

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const peerJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-1', use: 'sig' };
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const peerClient = { id: 'bench-peer-client', secret: randomBytes(32).toString('base64url') };

    const loader = start('load-generator.ts', { cpu: LOAD_CPU, ipc: true });
    const raw = start('raw-sign.ts', { cpu: SERVER_CPU, ipc: true });

    // Gatehouse must answer a token that verifies before anything is timed.
    const service = await startGatehouse(SERVER_CPU, 'token service');
    const serviceMetrics = `http://127.0.0.1:${service.target.port}/metrics`;
    const gatehouseToken = await tokenOnce(service.target);
    const checked = verifyJwt(gatehouseToken, {
      issuer: `http://localhost:9000/${gatehouse.tenant}/oauth2/default`,
      audience: 'api://default',
      keys: await gatehouse.verificationKeys(),
    });
    if ((checked.claims.scp as string[]).join(' ') !== 'orders.read')
      throw new Error(`gatehouse token: unexpected claims ${JSON.stringify(checked.claims)}`);
    const signingInput = gatehouseToken.slice(0, gatehouseToken.lastIndexOf('.'));
    // The token service as the signer app calls it: no Authorization header, the assertion in the body.
    const signerServer: Server = { ...service, target: { ...service.target, authorization: '' } };
    await tokenOnce(signerServer.target, assertionBodies(1)[0]);
    // And with a DPoP proof: a token bound to the proof's key.
    const boundToken = await tokenOnce(service.target, body, {
      dpop: dpopHeaders(dpopKey, tokenEndpoint, await dpopNonce(service.target), 1)[0]!.slice(
        'DPoP: '.length,
      ),
    });
    if (
      !(
        JSON.parse(Buffer.from(boundToken.split('.')[1]!, 'base64url').toString()) as {
          cnf?: unknown;
        }
      ).cnf
    )
      throw new Error('gatehouse DPoP token: no cnf claim');
    // For the verification baselines: an assertion and its public key, of each algorithm.
    const verifyCommands = new Map(
      await Promise.all(
        assertionAlgs.map(async (alg) => {
          const { privateKey, publicKey } = await generateKeyPair(alg);
          const jwk: JWK = { ...(await exportJWK(publicKey)), kid: `bench-${alg}`, alg };
          const now = Math.floor(Date.now() / 1000);
          const jwt = await new SignJWT({ jti: randomUUID() })
            .setProtectedHeader({ alg, kid: jwk.kid })
            .setIssuer(signer.clientId)
            .setSubject(signer.clientId)
            .setAudience(issuer)
            .setIssuedAt(now)
            .setExpirationTime(now + 3_600)
            .sign(privateKey);
          return [alg, { jwt, jwk }] as const;
        }),
      ),
    );

    // The peer; its token must verify too.
    const peerChild = start('oidc-provider-server.ts', {
      cpu: SERVER_CPU,
      env: {
        BENCH_PEER_JWK: JSON.stringify(peerJwk),
        BENCH_PEER_CLIENT_ID: peerClient.id,
        BENCH_PEER_CLIENT_SECRET: peerClient.secret,
      },
      profile: true,
    });
    const peer: Server = {
      name: 'oidc-provider',
      child: peerChild,
      target: {
        port: await listening(peerChild, 'oidc-provider'),
        path: '/token',
        authorization: basic(peerClient.id, peerClient.secret),
      },
    };
    const peerToken = await tokenOnce(peer.target);
    const lastDot = peerToken.lastIndexOf('.');
    if (
      !verify(
        'sha256',
        Buffer.from(peerToken.slice(0, lastDot)),
        publicKey,
        Buffer.from(peerToken.slice(lastDot + 1), 'base64url'),
      )
    )
      throw new Error('oidc-provider token: the signature does not verify');
    const peerClaims = JSON.parse(
      Buffer.from(peerToken.split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>;
    if (peerClaims.aud !== 'api://default' || peerClaims.scope !== 'orders.read')
      throw new Error(`oidc-provider token: unexpected claims ${JSON.stringify(peerClaims)}`);

    // The floor: node:http signing one token per request, and (once) answering a ready token.
    const startFloor = async (mode: 'answer' | 'sign'): Promise<Server> => {
      const child = start('floor-server.ts', {
        cpu: SERVER_CPU,
        env: {
          BENCH_FLOOR_MODE: mode,
          BENCH_FLOOR_TOKEN: gatehouseToken,
          BENCH_FLOOR_KEY_PEM: privateKeyPem,
        },
      });
      return {
        name: `floor (${mode})`,
        child,
        target: {
          port: await listening(child, `floor (${mode})`),
          path: '/token',
          authorization: basic(peerClient.id, peerClient.secret),
        },
      };
    };
    const floor = await startFloor('sign');

    // The all-in-one process, its tenant and client made through its admin API; its token too.
    const allInOne = await startAllInOne(SERVER_CPU);
    onCleanUp(allInOne.close);
    await allInOne.check(await tokenOnce(allInOne.server.target));

    const batchTotals = async (url: string) => histogramTotals(url, BATCH_HISTOGRAM);
    /** Each Gatehouse server's last measured window (load and catch-up), in ms. */
    const lastWindowMs = new Map<string, number>();
    /**
     * A Gatehouse server's window: warmup, then (once what it left is done) its processes idle over
     * the window's expected length (its previous window's, or in the first run the warmup's rate
     * times the window's requests), then the measured window, its CPU counted until `settled`.
     */
    const systemWindow = async (
      server: Server,
      system: Map<string, number>,
      metricsUrl: string,
      settled: () => Promise<void>,
    ): Promise<SystemFigures> => {
      const warm = await warmUp(loader, [server], WARMUP_REQUESTS, tokenLoad);
      await settled();
      const idle = await idleCpu(
        new Map([[server.name, server.child.pid!], ...system]),
        lastWindowMs.get(server.name) ?? (REQUESTS / warm.count) * warm.ms,
      );
      const before = await batchTotals(metricsUrl);
      const window = await measureSystem(loader, server, system, REQUESTS, tokenLoad, settled);
      const after = await batchTotals(metricsUrl);
      lastWindowMs.set(server.name, window.settledMs);
      return {
        window,
        idle,
        batches:
          before && after
            ? { events: after.sum - before.sum, writes: after.count - before.count }
            : undefined,
      };
    };
    /** The private_key_jwt window: the token service, a fresh assertion in every request's body. */
    const assertionWindow = async () => {
      await warmUp(loader, [signerServer], WARMUP_REQUESTS, {
        concurrency: CONCURRENCY,
        bodies: assertionBodies(WARMUP_REQUESTS),
      });
      const bodies = assertionBodies(REQUESTS);
      await gatehouse.caughtUp();
      return measure(loader, [signerServer], new Map(), REQUESTS, {
        concurrency: CONCURRENCY,
        bodies,
      });
    };
    /** The DPoP window: the token service, a fresh proof in every request's headers. */
    const dpopWindow = async () => {
      const nonce = await dpopNonce(service.target);
      await warmUp(loader, [service], WARMUP_REQUESTS, {
        ...tokenLoad,
        headers: dpopHeaders(dpopKey, tokenEndpoint, nonce, WARMUP_REQUESTS),
      });
      // Made just before the window: each proof's iat must be within a minute of its use.
      const headers = dpopHeaders(dpopKey, tokenEndpoint, nonce, REQUESTS);
      await gatehouse.caughtUp();
      return measure(loader, [service], new Map(), REQUESTS, { ...tokenLoad, headers });
    };
    const plainWindow = async (server: Server) => {
      await warmUp(loader, [server], WARMUP_REQUESTS, tokenLoad);
      return measure(loader, [server], new Map(), REQUESTS, tokenLoad);
    };

    const runs: RunFigures[] = [];
    let answerFloor: Measured | undefined;
    for (let r = 0; r < RUNS; r++) {
      const order = ['peer', 'token service', 'private_key_jwt', 'DPoP', 'all-in-one', 'floor'];
      if (r % 2 === 1) order.reverse();
      log(`run ${r + 1} of ${RUNS}: ${order.join(', ')}`);
      const figures: Partial<RunFigures> = { order };
      for (const what of order) {
        if (what === 'peer') figures.peer = await plainWindow(peer);
        else if (what === 'floor') figures.floor = await plainWindow(floor);
        else if (what === 'private_key_jwt') figures.assertion = await assertionWindow();
        else if (what === 'DPoP') figures.dpop = await dpopWindow();
        else if (what === 'token service')
          figures.gatehouse = await systemWindow(service, behind, serviceMetrics, () =>
            gatehouse.caughtUp(),
          );
        else
          figures.allInOne = await systemWindow(
            allInOne.server,
            new Map(),
            allInOne.metricsUrl,
            () => sleep(ALL_IN_ONE_SETTLE_MS),
          );
      }
      figures.raw = await rawSign(raw, signingInput, privateKeyPem);
      figures.verify = new Map();
      for (const [alg, { jwt, jwk }] of verifyCommands)
        figures.verify.set(
          alg,
          await ask<RawSignResult>(raw, {
            kind: 'verify',
            jwt,
            jwk,
            clientId: signer.clientId,
            audience: issuer,
            warmup: RAW_WARMUP,
            count: RAW_VERIFICATIONS,
          } satisfies RawSignCommand),
        );
      figures.redis = await ask<RawSignResult>(raw, {
        kind: 'redis',
        url: infrastructure.redis.url,
        keyPrefix,
        warmup: RAW_WARMUP,
        count: REDIS_ROUND_TRIPS,
      } satisfies RawSignCommand);
      runs.push(figures as RunFigures);
      if (r === 0) {
        const answer = await startFloor('answer');
        answerFloor = await plainWindow(answer);
        await stop(answer.child);
      }
    }
    await Promise.all([service, peer, floor].map((server) => stop(server.child)));
    await allInOne.close();

    // --- scaling: two token processes sharing one core in rounds alternating with one alone (with
    // the core saturated both ways, whatever a second process costs the first shows as CPU per
    // token), then one per core.
    const sharing = [
      await startGatehouse(SERVER_CPU, 'gatehouse A'),
      await startGatehouse(SERVER_CPU, 'gatehouse B'),
    ];
    await warmUp(loader, sharing, WARMUP_REQUESTS, tokenLoad);
    const alone = sharing.slice(0, 1);
    const singleRounds: Measured[] = [];
    const sharedRounds: Measured[] = [];
    const sharingRatios: number[] = [];
    const scalingWindow = async (servers: Server[], requests: number) => {
      await gatehouse.caughtUp();
      return measure(loader, servers, behind, requests, tokenLoad);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const aloneFirst = round % 2 === 0;
      const first = aloneFirst ? await scalingWindow(alone, ROUND_REQUESTS) : undefined;
      const both = await scalingWindow(sharing, ROUND_REQUESTS);
      const one = first ?? (await scalingWindow(alone, ROUND_REQUESTS));
      singleRounds.push(one);
      sharedRounds.push(both);
      sharingRatios.push(pooledCpuPerRequest(both) / cpuPerRequest(one));
    }
    const singleRun = pooled(singleRounds);
    const sharedRun = pooled(sharedRounds);
    await Promise.all(sharing.map((server) => stop(server.child)));
    // Then one per core, the load generator, Kafka, Redis and the projector unpinned beside them.
    if (pinning) {
      const both = `${SERVER_CPU},${LOAD_CPU}`;
      pin(loader.pid!, both);
      pin(process.pid, both);
      pin(gatehouse.projectorPid!, both);
      if (kafkaOurs && kafkaPid) pin(kafkaPid, both);
      if (redisOurs && redisPid) pin(redisPid, both);
    }
    const split = [
      await startGatehouse(SERVER_CPU, 'gatehouse A'),
      await startGatehouse(LOAD_CPU, 'gatehouse B'),
    ];
    await warmUp(loader, split, WARMUP_REQUESTS, tokenLoad);
    const splitRun = await scalingWindow(split, REQUESTS);
    await Promise.all(split.map((server) => stop(server.child)));
    await Promise.all([stop(loader), stop(raw)]);

    // --- the figures ---
    const quantile = (run: Measured, q: number) =>
      run.load.latenciesMs[Math.min(run.load.count - 1, Math.floor(run.load.count * q))]!;
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    /** A system window's CPU-ms of `name` over the window and catch-up, less its idle CPU. */
    const net = (f: SystemFigures, name: string) =>
      f.window.settledCpuMs.get(name)! - (f.idle.cpuMs.get(name)! / f.idle.ms) * f.window.settledMs;
    const perToken = (f: SystemFigures, name: string) => net(f, name) / f.window.load.count;
    const peerCpu = runs.map((run) => cpuPerRequest(run.peer));
    const serviceCpu = runs.map((run) => cpuPerRequest(run.gatehouse.window));
    const systemNames = ['token service', ...behind.keys()];
    const systemCpu = runs.map((run) =>
      systemNames.reduce((sum, name) => sum + perToken(run.gatehouse, name), 0),
    );
    const allInOneCpu = runs.map((run) => perToken(run.allInOne, 'all-in-one'));
    /** Per run, this figure / the peer's of the same run; the median of those. */
    const vsPeer = (cpus: number[]) => median(cpus.map((cpu, i) => cpu / peerCpu[i]!));
    const serviceRatio = vsPeer(serviceCpu);
    const systemRatio = vsPeer(systemCpu);
    const allInOneRatio = vsPeer(allInOneCpu);
    const met = (ratio: number, target: number) =>
      `<= ${target.toFixed(2)}x: ${ratio <= target ? 'met' : 'NOT met'}`;
    const eachRun = (values: number[]) => values.map((v) => fixed(v)).join(' / ');
    /** Tokens/s, p50 and p99 of a server's windows, medians over the runs. */
    const loadFigures = (windows: Measured[]) => ({
      rate: `${Math.round(median(windows.map((w) => (w.load.count / w.load.ms) * 1000))).toLocaleString('en')}/s`,
      busy: `${Math.round(median(windows.map((w) => (w.servers[0]!.cpuMs / w.load.ms) * 100)))}%`,
      p50: ms(median(windows.map((w) => quantile(w, 0.5)))),
      p99: ms(median(windows.map((w) => quantile(w, 0.99)))),
    });
    const p99Of = (windows: Measured[]) => windows.map((w) => quantile(w, 0.99));
    const peerP99 = p99Of(runs.map((run) => run.peer));
    const serviceP99Ratio = median(
      p99Of(runs.map((run) => run.gatehouse.window)).map((p, i) => p / peerP99[i]!),
    );
    const allInOneP99Ratio = median(
      p99Of(runs.map((run) => run.allInOne.window)).map((p, i) => p / peerP99[i]!),
    );

    rows.push(
      row({
        measure: `peer: oidc-provider ${peerVersion}, client_credentials, RS256 JWT access token`,
        ...loadFigures(runs.map((run) => run.peer)),
        runs: eachRun(peerCpu),
        cpu: fixed(median(peerCpu)),
        vsPeer: '1.00x',
        target: 'the reference',
      }),
    );
    const floorCpu = runs.map((run) => cpuPerRequest(run.floor));
    rows.push(
      row({
        measure: 'floor: node:http + one RS256 signature per request (no client, policy or event)',
        ...loadFigures(runs.map((run) => run.floor)),
        runs: eachRun(floorCpu),
        cpu: fixed(median(floorCpu)),
        vsPeer: `${vsPeer(floorCpu).toFixed(2)}x`,
        target: 'information: the least a node:http endpoint can cost',
      }),
    );
    if (answerFloor)
      rows.push(
        row({
          measure: 'floor: node:http answering a ready token (nothing signed; run 1 only)',
          ...loadFigures([answerFloor]),
          runs: fixed(cpuPerRequest(answerFloor)),
          cpu: fixed(cpuPerRequest(answerFloor)),
          vsPeer: `${(cpuPerRequest(answerFloor) / peerCpu[0]!).toFixed(2)}x`,
          target: 'information: HTTP alone',
        }),
      );
    const rawCpu = runs.map((run) => run.raw.cpuMsPerSignature);
    rows.push(
      row({
        measure: `raw node:crypto RS256 sign, ${signingInput.length}-byte input, ${RAW_SIGNATURES.toLocaleString('en')} back to back`,
        rate: `${Math.round(median(runs.map((run) => run.raw.perSecond))).toLocaleString('en')}/s`,
        runs: eachRun(rawCpu),
        cpu: fixed(median(rawCpu)),
        vsPeer: `${vsPeer(rawCpu).toFixed(2)}x`,
        target: 'information',
      }),
    );
    rows.push(
      row({
        measure:
          'token service: its process, TokensIssued acknowledged by Kafka before each answer',
        ...loadFigures(runs.map((run) => run.gatehouse.window)),
        runs: eachRun(serviceCpu),
        cpu: fixed(median(serviceCpu)),
        vsPeer: `${serviceRatio.toFixed(2)}x`,
        target: `${met(serviceRatio, SERVICE_TARGET)}; p99 ${serviceP99Ratio.toFixed(2)}x the peer's (<= 1.00x: ${serviceP99Ratio <= 1 ? 'met' : 'NOT met'})`,
      }),
    );
    // private_key_jwt: its CPU per token over the plain row's, against a verification and a Redis
    // round trip measured in the same run (the median of the runs' own figures).
    const assertionCpu = runs.map((run) => cpuPerRequest(run.assertion));
    const assertionExtra = assertionCpu.map((cpu, i) => cpu - serviceCpu[i]!);
    const assertionBound = runs.map(
      (run) => run.verify.get('RS256')!.cpuMsPerSignature + run.redis.cpuMsPerSignature,
    );
    const extraRatio = median(assertionExtra.map((extra, i) => extra / assertionBound[i]!));
    rows.push(
      row({
        measure:
          'token service, private_key_jwt: a fresh RS256 client assertion per request (verified, jti taken in Redis)',
        ...loadFigures(runs.map((run) => run.assertion)),
        runs: eachRun(assertionCpu),
        cpu: fixed(median(assertionCpu)),
        vsPeer: `${vsPeer(assertionCpu).toFixed(2)}x`,
        target: `extra over the plain row ${fixed(median(assertionExtra))} = ${extraRatio.toFixed(2)}x (verification + Redis round trip) (<= ${ASSERTION_TARGET}x: ${extraRatio <= ASSERTION_TARGET ? 'met' : 'NOT met'})`,
      }),
    );
    // DPoP: likewise, against an ES256 verification (the proofs' algorithm) and a Redis round trip.
    const dpopCpu = runs.map((run) => cpuPerRequest(run.dpop));
    const dpopExtra = dpopCpu.map((cpu, i) => cpu - serviceCpu[i]!);
    const dpopBound = runs.map(
      (run) => run.verify.get('ES256')!.cpuMsPerSignature + run.redis.cpuMsPerSignature,
    );
    const dpopRatio = median(dpopExtra.map((extra, i) => extra / dpopBound[i]!));
    rows.push(
      row({
        measure:
          'token service, DPoP: a fresh ES256 proof per request (verified, jti taken in Redis, token bound to its key)',
        ...loadFigures(runs.map((run) => run.dpop)),
        runs: eachRun(dpopCpu),
        cpu: fixed(median(dpopCpu)),
        vsPeer: `${vsPeer(dpopCpu).toFixed(2)}x`,
        target: `extra over the plain row ${fixed(median(dpopExtra))} = ${dpopRatio.toFixed(2)}x (ES256 verification + Redis round trip) (<= ${ASSERTION_TARGET}x: ${dpopRatio <= ASSERTION_TARGET ? 'met' : 'NOT met'})`,
      }),
    );
    for (const alg of assertionAlgs) {
      const cpus = runs.map((run) => run.verify.get(alg)!.cpuMsPerSignature);
      rows.push(
        row({
          measure: `  jose: one ${alg} client assertion verified (local JWK set), ${RAW_VERIFICATIONS.toLocaleString('en')} back to back`,
          rate: `${Math.round(median(runs.map((run) => run.verify.get(alg)!.perSecond))).toLocaleString('en')}/s`,
          runs: eachRun(cpus),
          cpu: fixed(median(cpus)),
          target: 'information',
        }),
      );
    }
    const redisCpu = runs.map((run) => run.redis.cpuMsPerSignature);
    rows.push(
      row({
        measure: `  one Redis round trip (SET NX PX through the projection store), ${REDIS_ROUND_TRIPS.toLocaleString('en')} one after another`,
        rate: `${Math.round(median(runs.map((run) => run.redis.perSecond))).toLocaleString('en')}/s`,
        runs: eachRun(redisCpu),
        cpu: fixed(median(redisCpu)),
        target: 'information: the client side, as the token service pays it',
      }),
    );
    for (const name of systemNames) {
      const cpus = runs.map((run) => perToken(run.gatehouse, name));
      rows.push(
        row({
          measure: `  whole system's part: ${name}, idle subtracted`,
          runs: eachRun(cpus),
          cpu: fixed(median(cpus)),
          vsPeer: `${vsPeer(cpus).toFixed(2)}x`,
          target: 'information',
        }),
      );
    }
    rows.push(
      row({
        measure: `whole system: ${systemNames.join(' + ')}, idle subtracted${missing.length ? ` (WITHOUT ${missing.join(', ')}: not a local process)` : ''}`,
        runs: eachRun(systemCpu),
        cpu: fixed(median(systemCpu)),
        vsPeer: `${systemRatio.toFixed(2)}x`,
        target: met(systemRatio, SYSTEM_TARGET),
      }),
    );
    rows.push(
      row({
        measure: 'all-in-one process (embedded log, in-memory read models), idle subtracted',
        ...loadFigures(runs.map((run) => run.allInOne.window)),
        runs: eachRun(allInOneCpu),
        cpu: fixed(median(allInOneCpu)),
        vsPeer: `${allInOneRatio.toFixed(2)}x`,
        target: `${met(allInOneRatio, ALL_IN_ONE_TARGET)}; p99 ${allInOneP99Ratio.toFixed(2)}x the peer's (information)`,
      }),
    );
    const perWrite = (figures: SystemFigures[]) =>
      figures
        .map((f) =>
          f.batches && f.batches.writes > 0
            ? (f.batches.events / f.batches.writes).toFixed(1)
            : 'n/a',
        )
        .join(' / ');
    rows.push(
      row({
        measure: 'events per Kafka produce request, token service (runs)',
        runs: perWrite(runs.map((run) => run.gatehouse)),
        target: `information (${BATCH_HISTOGRAM})`,
      }),
      row({
        measure: 'events per embedded log write, all-in-one (runs)',
        runs: perWrite(runs.map((run) => run.allInOne)),
        target: `information (${BATCH_HISTOGRAM})`,
      }),
    );
    const eachCpu = (run: Measured) =>
      run.servers.map((_, i) => fixed(cpuPerRequest(run, i))).join(' / ');
    rows.push(
      row({
        measure: 'scaling: 1 token process, alone on CPU 0 (rounds)',
        rate: perSecond(singleRun.load.count, singleRun.load.ms),
        p99: ms(quantile(singleRun, 0.99)),
        cpu: fixed(cpuPerRequest(singleRun)),
      }),
      row({
        measure: `scaling: 2 token processes sharing CPU ${SERVER_CPU} (rounds alternating with 1)`,
        rate: perSecond(sharedRun.load.count, sharedRun.load.ms),
        p99: ms(quantile(sharedRun, 0.99)),
        cpu: eachCpu(sharedRun),
      }),
      row({
        measure: 'scaling: 2 token processes on CPU 0 and 1, the rest beside them',
        rate: perSecond(splitRun.load.count, splitRun.load.ms),
        p99: ms(quantile(splitRun, 0.99)),
        cpu: eachCpu(splitRun),
      }),
    );
    // With a core each, a process gives 1 / (its CPU per token) tokens per core-second; the CPU per
    // token of two processes sharing one saturated core is what each costs with the other running.
    // The median of the rounds' ratios: this machine's speed drifts by 10-20% within a run.
    const derivedScaling = 2 / median(sharingRatios);
    const rate = (run: Measured) => run.load.count / run.load.ms;
    rows.push(
      row({
        measure: 'scaling, 2 processes vs 1: 2 / (CPU-ms/token of 2 sharing a core / of 1)',
        rate: `${derivedScaling.toFixed(2)}x`,
        target: `>= ${SCALING_TARGET}x: ${derivedScaling >= SCALING_TARGET ? 'met' : 'NOT met'} (derived)`,
      }),
      row({
        measure: 'scaling, 2 processes vs 1: tokens/s measured, 1 per core, no spare core',
        rate: `${(rate(splitRun) / rate(singleRun)).toFixed(2)}x`,
        target: 'lower bound only',
      }),
    );

    // Idle: each process's CPU over its idle windows, in % of a core, by run.
    const idleRows = [
      ...systemNames.map((name) => ({ name, figures: runs.map((run) => run.gatehouse) })),
      { name: 'all-in-one', figures: runs.map((run) => run.allInOne) },
    ].map(({ name, figures }) => ({
      process: name,
      idle: figures
        .map((f) => `${((f.idle.cpuMs.get(name)! / f.idle.ms) * 100).toFixed(1)}%`)
        .join(' / '),
      subtracted: figures
        .map((f) =>
          fixed(((f.idle.cpuMs.get(name)! / f.idle.ms) * f.window.settledMs) / f.window.load.count),
        )
        .join(' / '),
      windows: figures
        .map(
          (f) =>
            `${(f.idle.ms / 1000).toFixed(1)} s idle, ${(f.window.load.ms / 1000).toFixed(1)} + ${((f.window.settledMs - f.window.load.ms) / 1000).toFixed(1)} s`,
        )
        .join(' / '),
    }));

    const infraAtDouble = [...singleRun.others]
      .filter(([name]) => name === 'Kafka broker' || name === 'Redis' || name === 'projector')
      .map(([name, cpu]) => `${name} ${Math.round(((2 * cpu) / singleRun.load.ms) * 100)}%`);
    notes.push(
      `Targets (issue 22), median over ${RUNS} runs of each run's ratio to the peer: token service <= ${SERVICE_TARGET.toFixed(2)}x (${serviceRatio <= SERVICE_TARGET ? 'met' : 'NOT met'}), whole system <= ${SYSTEM_TARGET.toFixed(2)}x (${systemRatio <= SYSTEM_TARGET ? 'met' : 'NOT met'}), all-in-one <= ${ALL_IN_ONE_TARGET.toFixed(2)}x (${allInOneRatio <= ALL_IN_ONE_TARGET ? 'met' : 'NOT met'}), token service p99 at ${CONCURRENCY} in flight no worse than the peer's (${serviceP99Ratio <= 1 ? 'met' : 'NOT met'}: ${serviceP99Ratio.toFixed(2)}x). These replace the former target of 1.1x one raw RS256 signature.`,
      `Processes: ${pinNote}; the token service, the projector (its own process, consumer group of this run), the all-in-one and the floor run the built dist, as production does; Kafka, Redis, the projector, the load generator and this process are on CPU ${LOAD_CPU}${kafkaOurs && redisOurs ? '' : ' (those this run started)'}. Each run measures every server once, in the order ${runs.map((run) => run.order.join(', ')).join(' | ')}; servers stay up between runs. Node ${process.version}.`,
      `Load: ${CONCURRENCY} requests in flight on keep-alive connections, ${WARMUP_REQUESTS.toLocaleString('en')} warmup requests, then ${REQUESTS.toLocaleString('en')} measured, per server and run. p50 and p99 are the load generator's (queueing at that concurrency included), the median over the runs.`,
      `CPU-ms per token: a process's utime + stime (/proc/<pid>/stat, every thread) / tokens issued in the window. Token service: its process over the measured window, nothing subtracted. Whole system and all-in-one: each process from the window's start until the window's events are applied (Gatehouse: the projector's stored positions reach every topic's end; all-in-one: 500 ms after the last answer), less its idle CPU per ms over an idle window just before (after the warmup, once the projector had caught up; as long as the server's previous window, or in the first run as the warmup's rate predicted) times that length. Idle figures below. Server busy: the server process's CPU / the window's wall time (median of the runs); below 100% it waited, on Kafka acknowledgements and on CPU ${LOAD_CPU}, which the load generator shares with Kafka, Redis and the projector.`,
      `Events per log write: ${BATCH_HISTOGRAM} (_sum / _count) from the token service's /metrics (Kafka produce requests) and the all-in-one's (embedded log writes), over the measured window; n/a where the process exports no such series.`,
      'The all-in-one: apps/all-in-one/src/main.ts with GATEHOUSE_LOG_LEVEL=warn (no request lines; the token service here has no process logger either), no key pool, no demo tenant, its tenant, scope and service client made through its admin API; its token checked against its JWKS before anything is timed.',
      `Scaling: CPU per token of 2 processes sharing a core / of 1 alone, by round: ${sharingRatios.map((r) => r.toFixed(2)).join(', ')}. This machine has ${cores} cores, so 2 processes with a core each leave none for the load generator, the projector, Kafka and Redis, and the measured ratio is only a lower bound. The derived ratio assumes each process gets a core of its own and costs what it cost with the other running; it holds only while the rest keeps up: at twice the single-process rate it would need, of a core, ${infraAtDouble.join(', ') || '(not measured: not local processes)'}.`,
    );

    console.log(
      `\nbench:token on ${process.version}, ${cores} CPUs, Kafka ${infrastructure.kafka.version}, Redis ${infrastructure.redis.version}, ${new Date().toISOString()}`,
    );
    printTable<keyof Row>(
      [
        { key: 'measure', label: 'measure' },
        { key: 'rate', label: 'tokens/s', align: 'right' },
        { key: 'busy', label: 'server busy', align: 'right' },
        { key: 'p50', label: 'p50', align: 'right' },
        { key: 'p99', label: 'p99', align: 'right' },
        { key: 'runs', label: 'CPU-ms/token by run', align: 'right' },
        { key: 'cpu', label: 'median', align: 'right' },
        { key: 'vsPeer', label: 'vs peer', align: 'right' },
        { key: 'target', label: 'target' },
      ],
      rows,
    );
    console.log('');
    printTable<'process' | 'idle' | 'subtracted' | 'windows'>(
      [
        { key: 'process', label: 'idle, by run' },
        { key: 'idle', label: 'idle CPU, % of a core', align: 'right' },
        { key: 'subtracted', label: 'subtracted, CPU-ms/token', align: 'right' },
        { key: 'windows', label: 'idle window; measured + catch-up' },
      ],
      idleRows,
    );
    console.log('');
    for (const note of notes) console.log(`- ${note}`);
    console.log('');
    console.log(
      `p99 at ${CONCURRENCY} in flight (median of runs): token service ${ms(median(p99Of(runs.map((run) => run.gatehouse.window))))}, all-in-one ${ms(median(p99Of(runs.map((run) => run.allInOne.window))))}, peer ${ms(median(peerP99))}; token service / peer ${serviceP99Ratio.toFixed(2)}`,
    );
    console.log(
      `private_key_jwt extra CPU / (RS256 verification + Redis round trip): ${extraRatio.toFixed(2)} (target <= ${ASSERTION_TARGET})`,
    );
    console.log(
      `DPoP extra CPU / (ES256 verification + Redis round trip): ${dpopRatio.toFixed(2)} (target <= ${ASSERTION_TARGET})`,
    );
    console.log(`token service / peer: ${serviceRatio.toFixed(2)}`);
    console.log(`whole system / peer: ${systemRatio.toFixed(2)}`);
    console.log(`all-in-one / peer: ${allInOneRatio.toFixed(2)}`);
  },
);
