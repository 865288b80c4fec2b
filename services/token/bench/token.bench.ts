// `pnpm bench:token`: client_credentials tokens per second, p99 latency and server CPU-ms per token
// of Gatehouse's token service (its TokensIssued event appended to Kafka, read models in Redis) and
// of a peer, oidc-provider issuing RS256 JWT access tokens, next to the raw cost of an RS256
// signature measured in the same run. Per core: each server is a process of its own pinned to one
// CPU (taskset), the load generator another process pinned to the other, and a server's CPU is its
// whole process's utime + stime from /proc/<pid>/stat over the measured window. Then two token
// processes, first sharing one core and then one per core, for scaling (with two cores there is
// none to spare: see the notes it prints). Bounded (warmup, fixed request counts, a 4-minute
// deadline), 127.0.0.1 only; every child process is stopped by its PID at the end, also on error.
// The processes, CPU accounting, measured windows and Gatehouse's set-up are bench-kit.ts's.
// GATEHOUSE_BENCH_CPU_PROF=DIR writes a V8 CPU profile of each server there (figures then skew).
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { verifyJwt } from '@gatehouse/jwt';
import {
  ask,
  basic,
  cores,
  cpuPerRequest,
  fixed,
  LOAD_CPU,
  type Load,
  listening,
  type Measured,
  measure,
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
  setUpGatehouse,
  start,
  stop,
  warmUp,
} from './bench-kit.js';
import type { Target } from './load-generator.js';
import type { RawSignCommand, RawSignResult } from './raw-sign.js';

/** Requests in flight per server. */
const CONCURRENCY = 32;
const WARMUP_REQUESTS = 1_500;
/** Measured requests per server process. */
const REQUESTS = 6_000;
/** One process alone and two sharing its core, alternately, in rounds of this many per process. */
const ROUNDS = 4;
const ROUND_REQUESTS = 1_500;
const RAW_WARMUP = 300;
const RAW_SIGNATURES = 4_000;
const DEADLINE_MS = 4 * 60_000;
/** Gatehouse's target: CPU per token within this factor of one raw RS256 signature. */
const GATEHOUSE_TARGET = 1.1;
/** What oidc-provider typically needs on one core, per the issue (a reference, not a target). */
const PEER_TYPICAL = 1.7;
/** Two token processes must give at least this factor of one. */
const SCALING_TARGET = 1.8;

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

/** One token request outside the measurement, to check the answer before anything is timed. */
async function tokenOnce(target: Target): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: target.authorization,
    },
    body,
  });
  const json = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !json.access_token)
    throw new Error(`${target.path}: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

// --- the run -------------------------------------------------------------------------------------

interface Row {
  measure: string;
  rate: string;
  p99: string;
  busy: string;
  cpu: string;
  vsRaw: string;
  target: string;
}

const rows: Row[] = [];
const notes: string[] = [];

await runBench(
  'bench:token',
  DEADLINE_MS,
  async ({ infrastructure, kafkaPid, redisPid, kafkaOurs, redisOurs, watched, onCleanUp }) => {
    const keyPrefix = `bench:${randomUUID()}:`;
    const gatehouse = await setUpGatehouse(infrastructure, keyPrefix);
    onCleanUp(gatehouse.close);
    const gatehouseEnv = { ...gatehouse.env, GATEHOUSE_TOKEN_PORT: '0' };
    const gatehouseTarget = (port: number): Target => ({
      port,
      path: `/${gatehouse.tenant}/oauth2/default/v1/token`,
      authorization: basic(gatehouse.clientId, gatehouse.clientSecret),
    });
    const startGatehouse = async (cpu: string, name: string): Promise<Server> => {
      const child = start('gatehouse-server.ts', { cpu, env: gatehouseEnv, profile: true });
      return { name, child, target: gatehouseTarget(await listening(child, name)) };
    };

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const peerJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-1', use: 'sig' };
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const peerClient = { id: 'bench-peer-client', secret: randomBytes(32).toString('base64url') };

    const loader = start('load-generator.ts', { cpu: LOAD_CPU, ipc: true });
    watched.set('load generator', loader.pid!);
    const raw = start('raw-sign.ts', { cpu: SERVER_CPU, ipc: true });

    // Gatehouse must answer a token that verifies before anything is timed.
    const probe = await startGatehouse(SERVER_CPU, 'gatehouse');
    const gatehouseToken = await tokenOnce(probe.target);
    const checked = verifyJwt(gatehouseToken, {
      issuer: `http://localhost:9000/${gatehouse.tenant}/oauth2/default`,
      audience: 'api://default',
      keys: await gatehouse.verificationKeys(),
    });
    if ((checked.claims.scp as string[]).join(' ') !== 'orders.read')
      throw new Error(`gatehouse token: unexpected claims ${JSON.stringify(checked.claims)}`);
    await stop(probe.child);
    const signingInput = gatehouseToken.slice(0, gatehouseToken.lastIndexOf('.'));
    // Raw signing runs between the phases, so that each ratio has a baseline close to it in time.
    const raws = [await rawSign(raw, signingInput, privateKeyPem)];

    // The peer, alone on the servers' core; its token must verify too.
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
    await warmUp(loader, [peer], WARMUP_REQUESTS, tokenLoad);
    const peerRun = await measure(loader, [peer], watched, REQUESTS, tokenLoad);
    await stop(peer.child);
    raws.push(await rawSign(raw, signingInput, privateKeyPem));

    // The floor: node:http alone answering a ready token, then signing one per request. No process
    // on node:http can issue a token for less than the second costs.
    const floorRuns: Measured[] = [];
    for (const mode of ['answer', 'sign'] as const) {
      const child = start('floor-server.ts', {
        cpu: SERVER_CPU,
        env: {
          BENCH_FLOOR_MODE: mode,
          BENCH_FLOOR_TOKEN: gatehouseToken,
          BENCH_FLOOR_KEY_PEM: privateKeyPem,
        },
      });
      const floor: Server = {
        name: `floor (${mode})`,
        child,
        target: {
          port: await listening(child, `floor (${mode})`),
          path: '/token',
          authorization: basic(peerClient.id, peerClient.secret),
        },
      };
      await warmUp(loader, [floor], WARMUP_REQUESTS, tokenLoad);
      floorRuns.push(await measure(loader, [floor], watched, REQUESTS, tokenLoad));
      await stop(child);
    }

    // Gatehouse: one process alone on the servers' core, and two processes sharing that core, in
    // alternate rounds (A idle in B's absence costs next to nothing), so that each ratio compares
    // windows seconds apart. With the core saturated both ways, whatever a second process
    // costs the first (through Kafka, Redis, the machine) shows as CPU per token.
    const sharing = [
      await startGatehouse(SERVER_CPU, 'gatehouse A'),
      await startGatehouse(SERVER_CPU, 'gatehouse B'),
    ];
    await warmUp(loader, sharing, WARMUP_REQUESTS, tokenLoad);
    const alone = sharing.slice(0, 1);
    const singleRounds: Measured[] = [];
    const sharedRounds: Measured[] = [];
    const sharingRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const aloneFirst = round % 2 === 0;
      const first = aloneFirst
        ? await measure(loader, alone, watched, ROUND_REQUESTS, tokenLoad)
        : undefined;
      const both = await measure(loader, sharing, watched, ROUND_REQUESTS, tokenLoad);
      const one = first ?? (await measure(loader, alone, watched, ROUND_REQUESTS, tokenLoad));
      singleRounds.push(one);
      sharedRounds.push(both);
      sharingRatios.push(pooledCpuPerRequest(both) / cpuPerRequest(one));
    }
    const gatehouseRun = pooled(singleRounds);
    const sharedRun = pooled(sharedRounds);
    await Promise.all(sharing.map((server) => stop(server.child)));
    raws.push(await rawSign(raw, signingInput, privateKeyPem));

    // Then one per core, the load generator, Kafka, Redis and the projector unpinned beside them.
    if (pinning) {
      const both = `${SERVER_CPU},${LOAD_CPU}`;
      pin(loader.pid!, both);
      pin(process.pid, both);
      if (kafkaOurs && kafkaPid) pin(kafkaPid, both);
      if (redisOurs && redisPid) pin(redisPid, both);
    }
    const split = [
      await startGatehouse(SERVER_CPU, 'gatehouse A'),
      await startGatehouse(LOAD_CPU, 'gatehouse B'),
    ];
    await warmUp(loader, split, WARMUP_REQUESTS, tokenLoad);
    const splitRun = await measure(loader, split, watched, REQUESTS, tokenLoad);
    await Promise.all(split.map((server) => stop(server.child)));
    raws.push(await rawSign(raw, signingInput, privateKeyPem));
    await Promise.all([stop(loader), stop(raw)]);

    // --- the table ---
    const mean = (values: number[]) =>
      values.reduce((sum, value) => sum + value, 0) / values.length;
    const rawCpus = raws.map((r) => r.cpuMsPerSignature);
    /** The raw baseline of a phase: the mean of the raw runs just before and just after it. */
    const rawNear = (before: number, after = before + 1) =>
      mean([rawCpus[before]!, rawCpus[after]!]);
    const busy = (run: Measured) =>
      run.servers.map((s) => `${Math.round((s.cpuMs / run.load.ms) * 100)}%`).join(' + ');
    const eachCpu = (run: Measured) =>
      run.servers.map((_, i) => fixed(cpuPerRequest(run, i))).join(' / ');
    const p99 = (run: Measured) =>
      `${run.load.latenciesMs[Math.floor(run.load.latenciesMs.length * 0.99)]!.toFixed(1)} ms`;
    const rate = (run: Measured) => run.load.count / run.load.ms;
    rows.push({
      measure: `raw node:crypto RS256 sign, ${signingInput.length}-byte input (${raws.length} runs)`,
      rate: `${Math.round(mean(raws.map((r) => r.perSecond))).toLocaleString('en')}/s`,
      p99: '',
      busy: '100%',
      cpu: `${fixed(Math.min(...rawCpus))}-${fixed(Math.max(...rawCpus))}`,
      vsRaw: 'baseline',
      target: '',
    });
    const peerRatio = cpuPerRequest(peerRun) / rawNear(0);
    rows.push({
      measure: `oidc-provider ${peerVersion}: client_credentials, RS256 JWT access token`,
      rate: perSecond(peerRun.load.count, peerRun.load.ms),
      p99: p99(peerRun),
      busy: busy(peerRun),
      cpu: fixed(cpuPerRequest(peerRun)),
      vsRaw: `${peerRatio.toFixed(2)}x`,
      target: `typically ~${PEER_TYPICAL}x (reference)`,
    });
    const [answerFloor, signFloor] = floorRuns as [Measured, Measured];
    const floorSignRatio = cpuPerRequest(signFloor) / rawNear(1);
    rows.push({
      measure: 'floor: node:http answering a ready token (nothing signed, no event)',
      rate: perSecond(answerFloor.load.count, answerFloor.load.ms),
      p99: p99(answerFloor),
      busy: busy(answerFloor),
      cpu: fixed(cpuPerRequest(answerFloor)),
      vsRaw: `+${(cpuPerRequest(answerFloor) / rawNear(1)).toFixed(2)}x`,
      target: 'information: HTTP alone',
    });
    rows.push({
      measure: 'floor: node:http + one RS256 signature per request (no client, policy or event)',
      rate: perSecond(signFloor.load.count, signFloor.load.ms),
      p99: p99(signFloor),
      busy: busy(signFloor),
      cpu: fixed(cpuPerRequest(signFloor)),
      vsRaw: `${floorSignRatio.toFixed(2)}x`,
      target: 'information: the least a node:http endpoint can cost',
    });
    const gatehouseRatio = cpuPerRequest(gatehouseRun) / rawNear(1);
    rows.push({
      measure: 'gatehouse token: client_credentials, TokensIssued appended to Kafka',
      rate: perSecond(gatehouseRun.load.count, gatehouseRun.load.ms),
      p99: p99(gatehouseRun),
      busy: busy(gatehouseRun),
      cpu: fixed(cpuPerRequest(gatehouseRun)),
      vsRaw: `${gatehouseRatio.toFixed(2)}x`,
      target: `<= ${GATEHOUSE_TARGET}x: ${gatehouseRatio <= GATEHOUSE_TARGET ? 'met' : 'NOT met'}`,
    });
    rows.push({
      measure: `gatehouse token, 2 processes sharing CPU ${SERVER_CPU} (rounds alternating with 1)`,
      rate: perSecond(sharedRun.load.count, sharedRun.load.ms),
      p99: p99(sharedRun),
      busy: busy(sharedRun),
      cpu: eachCpu(sharedRun),
      vsRaw: `${(pooledCpuPerRequest(sharedRun) / rawNear(1)).toFixed(2)}x`,
      target: '',
    });
    rows.push({
      measure: 'gatehouse token, 2 processes on CPU 0 and 1, load gen + Kafka + Redis beside them',
      rate: perSecond(splitRun.load.count, splitRun.load.ms),
      p99: p99(splitRun),
      busy: busy(splitRun),
      cpu: eachCpu(splitRun),
      vsRaw: `${(pooledCpuPerRequest(splitRun) / rawNear(2)).toFixed(2)}x`,
      target: '',
    });
    // With a core each, a process gives 1 / (its CPU per token) tokens per core-second; the CPU per
    // token of two processes sharing one saturated core is what each costs with the other running.
    // The median of the rounds' ratios: this machine's speed drifts by 10-20% within a run.
    const derivedScaling = 2 / median(sharingRatios);
    rows.push({
      measure: 'scaling, 2 processes vs 1: 2 / (CPU-ms/token of 2 sharing a core / of 1)',
      rate: `${derivedScaling.toFixed(2)}x`,
      p99: '',
      busy: '',
      cpu: '',
      vsRaw: '',
      target: `>= ${SCALING_TARGET}x: ${derivedScaling >= SCALING_TARGET ? 'met' : 'NOT met'} (derived)`,
    });
    rows.push({
      measure: 'scaling, 2 processes vs 1: tokens/s measured, 1 per core, no spare core',
      rate: `${(rate(splitRun) / rate(gatehouseRun)).toFixed(2)}x`,
      p99: '',
      busy: '',
      cpu: '',
      vsRaw: '',
      target: 'lower bound only',
    });
    for (const [name, ms] of gatehouseRun.others)
      rows.push({
        measure: `beside gatehouse (1 process): ${name}`,
        rate: '',
        p99: '',
        busy: `${Math.round((ms / gatehouseRun.load.ms) * 100)}%`,
        cpu: fixed(ms / gatehouseRun.load.count),
        vsRaw: `${(ms / gatehouseRun.load.count / rawNear(1)).toFixed(2)}x`,
        target: 'information',
      });

    const systemShare = (run: Measured) =>
      `${Math.round((run.servers.reduce((sum, s) => sum + s.systemMs, 0) / run.servers.reduce((sum, s) => sum + s.cpuMs, 0)) * 100)}%`;
    const infraAtDouble = [...gatehouseRun.others]
      .filter(([name]) => name === 'Kafka broker' || name === 'Redis')
      .map(
        ([name, ms]) => `${name} ${Math.round(((2 * ms) / gatehouseRun.load.ms) * 100)}% of a core`,
      );
    notes.push(
      `Gatehouse needs ${(cpuPerRequest(gatehouseRun) / cpuPerRequest(peerRun)).toFixed(2)}x the peer's CPU per token; beyond the signature, ${fixed(cpuPerRequest(gatehouseRun) - rawNear(1))} ms against the peer's ${fixed(cpuPerRequest(peerRun) - rawNear(0))} ms. System (kernel) time is ${systemShare(gatehouseRun)} of Gatehouse's CPU, ${systemShare(peerRun)} of the peer's.`,
      `Processes: ${pinNote}; the servers run the built dist, as production does; while one server (or two sharing CPU ${SERVER_CPU}) runs, Kafka, Redis and this process (the projector) are on CPU ${LOAD_CPU} too${kafkaOurs && redisOurs ? '' : ' (those this run started)'}. Node ${process.version}.`,
      `Load: ${CONCURRENCY} requests in flight per server on keep-alive connections, ${WARMUP_REQUESTS.toLocaleString('en')} warmup requests per server, then ${REQUESTS.toLocaleString('en')} measured per server; Gatehouse alone and 2 sharing a core: ${ROUNDS} alternating rounds of ${ROUND_REQUESTS.toLocaleString('en')} per process each. p99 is the load generator's, so it includes queueing at that concurrency.`,
      "CPU-ms per token: the server process's utime + stime (/proc/<pid>/stat, every thread) over the measured window / tokens it issued; busy = that CPU / the window's wall time. Rows 'beside gatehouse' are other processes over the same window, per token: not in the server's count.",
      `Raw: node:crypto sign('sha256') with an RSA-2048 key of Gatehouse's own token's signing input, ${RAW_SIGNATURES.toLocaleString('en')} back to back on CPU ${SERVER_CPU}, before, between and after the phases (${rawCpus.map((c) => fixed(c)).join(', ')} ms); each "vs raw" uses the runs next to its phase.`,
      `Scaling: CPU per token of 2 processes sharing a core / of 1 alone, by round: ${sharingRatios.map((r) => r.toFixed(2)).join(', ')}. This machine has 2 cores, so 2 processes with a core each leave none for the load generator, Kafka and Redis, and the measured ratio is only a lower bound. The derived ratio assumes each process gets a core of its own and costs what it cost with the other running; it holds only while Kafka and Redis keep up: at twice the single-process rate they would need ${infraAtDouble.join(' and ') || '(not measured: not local processes)'}.`,
    );

    console.log(
      `\nbench:token on ${process.version}, ${cores} CPUs, Kafka ${infrastructure.kafka.version}, Redis ${infrastructure.redis.version}, ${new Date().toISOString()}`,
    );
    printTable<keyof Row>(
      [
        { key: 'measure', label: 'measure' },
        { key: 'rate', label: 'tokens/s', align: 'right' },
        { key: 'p99', label: 'p99', align: 'right' },
        { key: 'busy', label: 'server CPU busy', align: 'right' },
        { key: 'cpu', label: 'CPU-ms/token', align: 'right' },
        { key: 'vsRaw', label: 'vs raw sign' },
        { key: 'target', label: 'target' },
      ],
      rows,
    );
    console.log('');
    for (const note of notes) console.log(`- ${note}`);
  },
);
