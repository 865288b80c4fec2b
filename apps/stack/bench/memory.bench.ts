// `pnpm bench:memory`: each service's resident memory under a long mixed load on the distributed
// stack (every service its own process on real Kafka and Redis, as `pnpm stack` runs them). A few
// tenants with users signed in once each, then BENCH_MEMORY_REQUESTS (default 200,000) requests of
// the kinds a deployment sees most — userinfo, introspect, refresh, client_credentials, revoke, jwks,
// discovery, admin reads, authorize pages — with valid and invalid tokens, made-up server ids and
// tenants, straight to each service's port on 127.0.0.1. At the halfway mark and at the end every
// service is garbage-collected through its inspector and its RSS read from /proc; the bench prints
// RSS per service at both marks and their ratio (target: within 10%). Bounded: a deadline
// (BENCH_MEMORY_DEADLINE_MS, default 20 min) stops the run; every process is stopped at the end.
// BENCH_MEMORY_SNAPSHOTS=DIR writes a heap snapshot of each service at each mark there (to compare
// what the heap holds; writing one leaves RSS higher, so the RSS figures of such a run are not
// comparable). BENCH_MEMORY_ONLY=kind,kind sends those kinds only; BENCH_MEMORY_NODE_OPTIONS adds
// Node.js options to the services. Raw RSS follows V8's heap total: a service's live heap stays
// ~20 MiB, and garbage waits for a major GC that V8 schedules late when memory is plentiful.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Stack, startStack } from '../src/stack.js';

const TOTAL = Number(process.env.BENCH_MEMORY_REQUESTS ?? 200_000);
const DEADLINE_MS = Number(process.env.BENCH_MEMORY_DEADLINE_MS ?? 20 * 60_000);
const SNAPSHOTS = process.env.BENCH_MEMORY_SNAPSHOTS;
const TENANTS = 4;
const USERS_PER_TENANT = 12;
/** Requests in flight. */
const CONCURRENCY = 24;
/** Between the two marks RSS may move this much (the issue's target). */
const TARGET_RATIO = 1.1;
const password = 'Memory-Bench-9!x';
const redirectUri = 'https://app.example.com/cb';

const log = (line: string) => console.error(`bench:memory: ${line}`);
if (!Number.isInteger(TOTAL) || TOTAL < 2) throw new Error('BENCH_MEMORY_REQUESTS: at least 2');

// --- HTTP to the services' own ports ------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  retried = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          accept: 'application/json',
          ...(body === undefined
            ? {}
            : {
                'content-type': headers['content-type'] ?? 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
              }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed as it went idle (during a mark): once more.
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET')
        resolve(call(port, method, path, headers, body, true));
      else reject(error);
    });
    req.end(body);
  });
}
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const json = (answer: Answer, what: string, ok = [200, 201]) => {
  if (!ok.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${answer.text}`);
  return (answer.text ? JSON.parse(answer.text) : {}) as Record<string, unknown>;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const randomId = (prefix: string) =>
  `${prefix}${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;

// --- each service's memory, garbage-collected through its inspector ----------------------------

class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();
  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data)) as {
        id?: number;
        method?: string;
        params?: { chunk?: string };
        result?: unknown;
      };
      if (data.method === 'HeapProfiler.addHeapSnapshotChunk')
        this.chunks.push(data.params!.chunk!);
      if (data.id !== undefined) this.waiting.get(data.id)?.(data.result);
    });
  }
  private chunks: string[] = [];

  static async open(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', reject, { once: true });
    });
    return new Inspector(socket);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async snapshot(file: string): Promise<void> {
    this.chunks = [];
    await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await writeFile(file, this.chunks.join(''));
    this.chunks = [];
  }

  close(): void {
    this.socket.close();
  }
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

async function memoryUsage(inspector: Inspector): Promise<NodeJS.MemoryUsage> {
  const { result } = (await inspector.send('Runtime.evaluate', {
    expression: 'JSON.stringify(process.memoryUsage())',
  })) as { result: { value: string } };
  return JSON.parse(result.value) as NodeJS.MemoryUsage;
}

interface Mark {
  /** Before the collections, as `ps` would show it. */
  rawRss: number;
  rss: number;
  heapUsed: number;
  /** V8's heap as reserved from the system, and memory held outside it (Buffers, native). */
  heapTotal: number;
  external: number;
}

// --- the run --------------------------------------------------------------------------------------

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-memory-'));
const inspectorUrls = new Map<string, string>();
let stack: Stack | undefined;
const inspectors = new Map<string, Inspector>();
let timedOut = false;
const deadline = setTimeout(() => {
  timedOut = true;
}, DEADLINE_MS);

const cleanUp = async () => {
  clearTimeout(deadline);
  for (const inspector of inspectors.values()) inspector.close();
  agent.destroy();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
};

try {
  const started = performance.now();
  stack = await startStack({
    dir,
    ports: 'free',
    env: {
      // The inspector on a free loopback port: the bench garbage-collects through it.
      // BENCH_MEMORY_NODE_OPTIONS: more Node.js options for the services (e.g. V8 heap settings).
      NODE_OPTIONS: `--inspect=127.0.0.1:0 ${process.env.BENCH_MEMORY_NODE_OPTIONS ?? ''}`.trim(),
      // The services share two cores with Kafka, Redis, the projector and this load: the projector's
      // beacon may pass the default 1 s now and then, and checks would fail closed (503).
      GATEHOUSE_MAX_PROJECTION_LAG_MS: '5000',
      // Budgets out of the way: this load is one source and a few clients by design.
      GATEHOUSE_RATE_LIMITS: JSON.stringify({
        defaults: {
          tokenClient: { limit: 1_000_000_000, windowSeconds: 60 },
          signInLogin: { limit: 1_000_000, windowSeconds: 60 },
          signInSource: { limit: 1_000_000, windowSeconds: 60 },
          managementToken: { limit: 1_000_000_000, windowSeconds: 60 },
        },
      }),
    },
    log: (line) => {
      const match = /^(\S+)\s+\| Debugger listening on (ws:\/\/\S+)/.exec(line);
      if (match) inspectorUrls.set(match[1]!, match[2]!);
    },
  });
  const services = stack.services();
  const port = (name: string) => services.find((s) => s.name === name)!.httpPort!;
  const [authorizePort, tokenPort, userinfoPort, keysPort, adminPort] = [
    'authorize',
    'token',
    'userinfo',
    'keys',
    'admin',
  ].map(port) as [number, number, number, number, number];
  for (const service of services) {
    const url = inspectorUrls.get(service.name);
    if (!url) throw new Error(`no inspector address from ${service.name}`);
    inspectors.set(service.name, await Inspector.open(url));
  }
  log(`stack up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Tenants, each with users, a web app (code + refresh) and a service app (client_credentials).
  const admin = (method: string, path: string, token: string, body?: unknown) =>
    call(
      adminPort,
      method,
      path,
      { authorization: `SSWS ${token}`, 'content-type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body),
    );
  interface Tenant {
    id: string;
    path: string;
    apiToken: string;
    web: { id: string; secret: string };
    service: { id: string; secret: string };
    users: { id: string; login: string }[];
  }
  const tenants: Tenant[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const id = `mem-${t}-${randomBytes(3).toString('hex')}`;
    const created = json(
      await admin('POST', '/api/v1/tenants', stack.adminToken, { id, name: `Memory ${id}` }),
      'create tenant',
    );
    const path = new URL(created.issuer as string).pathname.replace(/\/$/, '');
    const apiToken = created.apiToken as string;
    const as = async (method: string, p: string, body?: unknown) =>
      json(await admin(method, `${path}${p}`, apiToken, body), `${method} ${p}`, [200, 201, 204]);
    await as('POST', '/api/v1/authorizationServers/default/scopes', {
      name: 'orders.read',
      description: 'Read orders',
      default: true,
      metadataPublish: 'ALL_CLIENTS',
    });
    const web = await as('POST', '/oauth2/v1/clients', {
      client_name: 'Memory web',
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      consent_method: 'TRUSTED',
    });
    const service = await as('POST', '/oauth2/v1/clients', {
      client_name: 'Memory service',
      application_type: 'service',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
    });
    const users: Tenant['users'] = [];
    for (let u = 0; u < USERS_PER_TENANT; u++) {
      const login = `user-${u}-${randomBytes(3).toString('hex')}@example.com`;
      const user = await as('POST', '/api/v1/users?activate=true', {
        profile: { firstName: 'Ada', lastName: `Lovelace ${u}`, email: login, login },
        credentials: { password: { value: password } },
      });
      await as('PUT', `/api/v1/apps/${web.client_id as string}/users/${user.id as string}`);
      users.push({ id: user.id as string, login });
    }
    tenants.push({
      id,
      path,
      apiToken,
      web: { id: web.client_id as string, secret: web.client_secret as string },
      service: { id: service.client_id as string, secret: service.client_secret as string },
      users,
    });
  }
  // The keys service makes each new server's keys on its own schedule.
  for (const tenant of tenants)
    for (;;) {
      const jwks = await call(keysPort, 'GET', `${tenant.path}/oauth2/default/v1/keys`);
      if (jwks.status === 200 && (JSON.parse(jwks.text) as { keys: unknown[] }).keys.length > 0)
        break;
      if (timedOut) throw new Error('no signing keys before the deadline');
      await sleep(100);
    }

  // One sign-in per user (authn, /authorize with the sessionToken, the code at /token).
  interface Grant {
    tenant: Tenant;
    access: string;
    refresh: string;
    /** A refresh of this grant is under way: a second one at once would be a reuse (rotation). */
    refreshing?: boolean;
  }
  const grants: Grant[] = [];
  const serverPath = (tenant: Tenant) => `${tenant.path}/oauth2/default/v1`;
  const codeFlow = async (tenant: Tenant, login: string): Promise<Grant> => {
    const authn = json(
      await call(
        authorizePort,
        'POST',
        `${tenant.path}/api/v1/authn`,
        { 'content-type': 'application/json' },
        JSON.stringify({ username: login, password }),
      ),
      'authn',
    );
    const query = form({
      client_id: tenant.web.id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid profile email offline_access orders.read',
      state: randomBytes(8).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      sessionToken: authn.sessionToken as string,
    });
    const authorized = await call(authorizePort, 'GET', `${serverPath(tenant)}/authorize?${query}`);
    const location = String(authorized.headers.location ?? '');
    const code = new URL(location, 'http://x').searchParams.get('code');
    if (authorized.status !== 302 || !code)
      throw new Error(`authorize: ${authorized.status} ${location} ${authorized.text}`);
    const tokens = json(
      await call(
        tokenPort,
        'POST',
        `${serverPath(tenant)}/token`,
        { authorization: basic(tenant.web.id, tenant.web.secret) },
        form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
      ),
      'code exchange',
    );
    return {
      tenant,
      access: tokens.access_token as string,
      refresh: tokens.refresh_token as string,
    };
  };
  // A few at a time: each is a password hash in the authorize service's workers.
  const signIns = tenants.flatMap((tenant) => tenant.users.map((user) => ({ tenant, user })));
  for (let i = 0; i < signIns.length; i += 4)
    grants.push(
      ...(await Promise.all(
        signIns.slice(i, i + 4).map(({ tenant, user }) => codeFlow(tenant, user.login)),
      )),
    );
  log(
    `${tenants.length} tenants, ${grants.length} users signed in, ${((performance.now() - started) / 1000).toFixed(1)} s in`,
  );

  // Access tokens to use: users' (from refreshes) and services' (client_credentials), each pool
  // keeping the latest few thousand, so that most requests carry a token the services saw rarely.
  type Pool = { tenant: Tenant; token: string }[];
  const MAX_POOL = 5_000;
  const users: Pool = grants.map((g) => ({ tenant: g.tenant, token: g.access }));
  const machines: Pool = [];
  const remember = (pool: Pool, tenant: Tenant, token: string) => {
    if (pool.length < MAX_POOL) pool.push({ tenant, token });
    else pool[Math.floor(Math.random() * MAX_POOL)] = { tenant, token };
  };
  const anyToken = () =>
    machines.length > 0 && Math.random() < 0.4 ? pick(machines) : pick(users);
  const forged = (token: string) =>
    `${token.slice(0, token.lastIndexOf('.') + 1)}${randomBytes(256).toString('base64url')}`;
  const madeUpKid = () =>
    `${Buffer.from(JSON.stringify({ kid: randomBytes(8).toString('hex'), alg: 'RS256' })).toString('base64url')}.${randomBytes(60).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
  const invalidToken = (token: string) =>
    pick([forged(token), madeUpKid(), randomBytes(40).toString('base64url')]);

  type Kind = [weight: number, name: string, run: () => Promise<number>];
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const kinds: Kind[] = [
    [
      22,
      'userinfo',
      async () => {
        const { tenant, token } = pick(users);
        return (await call(userinfoPort, 'GET', `${serverPath(tenant)}/userinfo`, bearer(token)))
          .status;
      },
    ],
    [
      6,
      'userinfo (invalid token)',
      async () => {
        const { tenant, token } = anyToken();
        const path = pick([
          `${serverPath(tenant)}/userinfo`,
          `${tenant.path}/oauth2/${randomId('aus')}/v1/userinfo`,
          `/${randomId('t-')}/oauth2/v1/userinfo`,
        ]);
        return (await call(userinfoPort, 'GET', path, bearer(invalidToken(token)))).status;
      },
    ],
    [
      14,
      'introspect',
      async () => {
        const { tenant, token } = anyToken();
        const sent = Math.random() < 0.8 ? token : invalidToken(token);
        return (
          await call(
            tokenPort,
            'POST',
            `${serverPath(tenant)}/introspect`,
            { authorization: basic(tenant.web.id, tenant.web.secret) },
            form({ token: sent, token_type_hint: 'access_token' }),
          )
        ).status;
      },
    ],
    [
      8,
      'refresh',
      async () => {
        const grant = pick(grants);
        if (grant.refreshing) return -1;
        grant.refreshing = true;
        const answer = await call(
          tokenPort,
          'POST',
          `${serverPath(grant.tenant)}/token`,
          { authorization: basic(grant.tenant.web.id, grant.tenant.web.secret) },
          form({ grant_type: 'refresh_token', refresh_token: grant.refresh }),
        );
        if (answer.status === 200) {
          const tokens = JSON.parse(answer.text) as { access_token: string; refresh_token: string };
          grant.refresh = tokens.refresh_token;
          remember(users, grant.tenant, tokens.access_token);
        }
        grant.refreshing = false;
        return answer.status;
      },
    ],
    [
      8,
      'client_credentials',
      async () => {
        const tenant = pick(tenants);
        const answer = await call(
          tokenPort,
          'POST',
          `${serverPath(tenant)}/token`,
          { authorization: basic(tenant.service.id, tenant.service.secret) },
          form({ grant_type: 'client_credentials', scope: 'orders.read' }),
        );
        if (answer.status === 200)
          remember(
            machines,
            tenant,
            (JSON.parse(answer.text) as { access_token: string }).access_token,
          );
        return answer.status;
      },
    ],
    [
      3,
      'revoke',
      async () => {
        // A service's token mostly, now and then a user's; it leaves its pool.
        const pool = machines.length > 0 && Math.random() < 0.8 ? machines : users;
        if (pool.length < 100) return -1;
        const { tenant, token } = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
        return (
          await call(
            tokenPort,
            'POST',
            `${serverPath(tenant)}/revoke`,
            { authorization: basic(tenant.web.id, tenant.web.secret) },
            form({ token, token_type_hint: 'access_token' }),
          )
        ).status;
      },
    ],
    [
      3,
      'token (bad client)',
      async () => {
        const tenant = pick(tenants);
        return (
          await call(
            tokenPort,
            'POST',
            `${serverPath(tenant)}/token`,
            { authorization: basic(randomId('0oa'), 'wrong') },
            form({ grant_type: 'client_credentials' }),
          )
        ).status;
      },
    ],
    [
      9,
      'jwks',
      async () => {
        const tenant = pick(tenants);
        const path = pick([
          `${serverPath(tenant)}/keys`,
          `${tenant.path}/oauth2/v1/keys`,
          `${tenant.path}/oauth2/${randomId('aus')}/v1/keys`,
        ]);
        return (await call(keysPort, 'GET', path)).status;
      },
    ],
    [
      9,
      'discovery',
      async () => {
        const tenant = pick(tenants);
        const path = pick([
          `${tenant.path}/oauth2/default/.well-known/openid-configuration`,
          `${tenant.path}/oauth2/default/.well-known/oauth-authorization-server`,
          `${tenant.path}/.well-known/openid-configuration`,
          `/${randomId('t-')}/.well-known/openid-configuration`,
        ]);
        return (await call(keysPort, 'GET', path)).status;
      },
    ],
    [
      9,
      'admin reads',
      async () => {
        const tenant = pick(tenants);
        const user = pick(tenant.users);
        const path = pick([
          `${tenant.path}/api/v1/users?limit=20`,
          `${tenant.path}/api/v1/users/${user.id}`,
          `${tenant.path}/api/v1/users/${randomId('00u')}`,
          `${tenant.path}/api/v1/apps`,
          `${tenant.path}/oauth2/v1/clients/${tenant.web.id}`,
          `${tenant.path}/api/v1/apps/${tenant.web.id}/users`,
          `${tenant.path}/api/v1/groups`,
          `${tenant.path}/api/v1/authorizationServers`,
          `${tenant.path}/api/v1/users?search=${encodeURIComponent(`profile.login sw "user-${Math.floor(Math.random() * 9)}"`)}`,
        ]);
        return (await admin('GET', path, tenant.apiToken)).status;
      },
    ],
    [
      3,
      'authorize page',
      async () => {
        const tenant = pick(tenants);
        const query = form({
          client_id: tenant.web.id,
          redirect_uri: redirectUri,
          response_type: 'code',
          scope: 'openid profile',
          state: randomBytes(8).toString('hex'),
          nonce: randomBytes(8).toString('hex'),
        });
        return (await call(authorizePort, 'GET', `${serverPath(tenant)}/authorize?${query}`))
          .status;
      },
    ],
  ];
  // BENCH_MEMORY_ONLY=name,name: only these kinds (to look at one service's growth alone).
  const only = process.env.BENCH_MEMORY_ONLY?.split(',').map((name) => name.trim());
  if (only) kinds.splice(0, kinds.length, ...kinds.filter(([, name]) => only.includes(name)));
  if (kinds.length === 0) throw new Error('BENCH_MEMORY_ONLY: no such kind of request');
  const weights = kinds.reduce((sum, [weight]) => sum + weight, 0);
  const choose = (): Kind => {
    let r = Math.random() * weights;
    for (const kind of kinds) {
      r -= kind[0];
      if (r < 0) return kind;
    }
    return kinds[kinds.length - 1]!;
  };

  const statuses = new Map<string, Map<number, number>>();
  const count = (name: string, status: number) => {
    const byStatus = statuses.get(name) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    statuses.set(name, byStatus);
  };
  let sent = 0;
  // Raw RSS (no GC) every tenth of the run, to show the trend as it goes.
  const progressEvery = Math.max(1, Math.floor(TOTAL / 10));
  let reported = 0;
  const progress = async (at: number) => {
    const figures = await Promise.all(
      stack!.services().map(async (s) => {
        const usage = await memoryUsage(inspectors.get(s.name)!);
        return `${s.name} ${(await rssMiB(s.pid!)).toFixed(0)} (heap ${(usage.heapTotal / 2 ** 20).toFixed(0)})`;
      }),
    );
    log(`${at.toLocaleString('en')} sent; RSS MiB (raw), V8 heap total: ${figures.join(', ')}`);
  };
  const drive = async (until: number) => {
    const worker = async () => {
      while (sent < until && !timedOut) {
        sent++;
        if (sent % progressEvery === 0 && sent > reported) {
          reported = sent;
          void progress(sent);
        }
        const [, name, run] = choose();
        const status = await run().catch(() => 0);
        // -1: nothing to send for this kind now (a grant being refreshed); another kind goes.
        if (status === -1) sent--;
        else count(name, status);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  const mark = async (label: string): Promise<Map<string, Mark>> => {
    const marks = new Map<string, Mark>();
    for (const service of stack!.services()) {
      const inspector = inspectors.get(service.name)!;
      const rawRss = await rssMiB(service.pid!);
      // Twice: what one collection frees in finalizers the next one returns.
      await inspector.send('HeapProfiler.collectGarbage');
      await inspector.send('HeapProfiler.collectGarbage');
      const usage = await memoryUsage(inspector);
      const rss = await rssMiB(service.pid!);
      // After reading RSS: writing a snapshot takes memory of its own.
      if (SNAPSHOTS)
        await inspector.snapshot(join(SNAPSHOTS, `${service.name}-${label}.heapsnapshot`));
      marks.set(service.name, {
        rawRss,
        rss,
        heapUsed: usage.heapUsed / 2 ** 20,
        heapTotal: usage.heapTotal / 2 ** 20,
        external: usage.external / 2 ** 20,
      });
    }
    return marks;
  };

  const before = await mark('start');
  const half = Math.floor(TOTAL / 2);
  const loadStarted = performance.now();
  await drive(half);
  const atHalf = await mark(`${half}`);
  log(
    `${sent.toLocaleString('en')} requests in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
  );
  await drive(TOTAL);
  const atEnd = await mark(`${sent}`);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  if (timedOut)
    log(
      `the deadline (${DEADLINE_MS} ms) stopped the load at ${sent.toLocaleString('en')} requests`,
    );

  const mib = (value: number) => value.toFixed(1).padStart(8);
  const rows = [...atEnd.keys()].map((name) => {
    const [s, h, e] = [before.get(name)!, atHalf.get(name)!, atEnd.get(name)!];
    const ratio = e.rss / h.rss;
    const all = (key: keyof Mark) => `${mib(s[key])} ${mib(h[key])} ${mib(e[key])}`;
    return `${name.padEnd(10)} ${all('rss')}   ${ratio.toFixed(3).padStart(6)} ${ratio <= TARGET_RATIO ? 'ok  ' : 'OVER'}  ${all('rawRss')}  ${all('heapUsed')}  ${all('heapTotal')}  ${all('external')}`;
  });
  const mixed = [...statuses.entries()]
    .map(
      ([name, byStatus]) =>
        `  ${name}: ${[...byStatus.entries()]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status} x${n}`)
          .join(', ')}`,
    )
    .join('\n');
  process.stdout.write(
    [
      '',
      `bench:memory — ${sent.toLocaleString('en')} mixed requests (${half.toLocaleString('en')} at the first mark) in ${loadSeconds.toFixed(1)} s, ${CONCURRENCY} in flight, ${TENANTS} tenants x ${USERS_PER_TENANT} users; RSS in MiB after two full GCs (inspector HeapProfiler.collectGarbage), from /proc/PID/status`,
      `           RSS after GC                end/half         RSS before GC (raw)         V8 heap used                V8 heap total               external`,
      `service   ${' start     half      end'}${'                  '}${'   start     half      end '.repeat(4)}`,
      ...rows,
      `target: RSS at the end within ${Math.round((TARGET_RATIO - 1) * 100)}% of RSS at the first mark, every service`,
      'answers by kind and HTTP status (0 = no answer):',
      mixed,
      '',
    ].join('\n'),
  );
} finally {
  await cleanUp();
}
