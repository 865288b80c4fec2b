// Steady mixed load for the chaos suite: sign-ins (authn, /authorize with PKCE, code exchange),
// client credentials, refresh, userinfo, introspection, revocation and management API writes, from
// a few workers at a bounded rate. Every answer is recorded with its time, so a phase's success rate
// can be told afterwards; and the load keeps its own books of what the system acknowledged:
// revocations answered 200, users created, refresh tokens spent, a client deactivated. Any later
// answer that accepts one of those tokens is a violation, whatever the fault at the time.
import { createHash, randomBytes } from 'node:crypto';
import type { Target } from '../targets.js';

export type Op =
  | 'sign-in'
  | 'token'
  | 'refresh'
  | 'userinfo'
  | 'introspect'
  | 'revoke'
  | 'admin-write'
  | 'discovery'
  | 'revoked-check';

export const ops: readonly Op[] = [
  'sign-in',
  'token',
  'refresh',
  'userinfo',
  'introspect',
  'revoke',
  'admin-write',
  'discovery',
  'revoked-check',
];

export interface Sample {
  op: Op;
  /** Epoch ms the operation started. */
  at: number;
  ms: number;
  ok: boolean;
  /** The status that decided it (the first failing step's, for a sign-in). */
  status: number;
  /** A failure is clean when it is a 503 with a JSON body (or an OAuth error redirect). */
  clean: boolean;
  detail?: string;
}

export interface ChaosTenant {
  org: string;
  issuer: string;
  apiToken: string;
  login: string;
  password: string;
  /** The confidential web app everyone signs in to. */
  web: { clientId: string; clientSecret: string };
  /** A second web app whose tokens die when it is deactivated mid-run. */
  victim: { clientId: string; clientSecret: string };
  /** A service app for client credentials, with the custom scope `chaos.read`. */
  service: { clientId: string; clientSecret: string };
  redirectUri: string;
}

interface Session {
  client: 'web' | 'victim';
  access: string;
  refresh: string;
  /** Refresh tokens of this family already exchanged: each must stay refused. */
  spent: string[];
  /** A worker is using it: one at a time, or two rotations would race (and revoke the family). */
  busy: boolean;
}

export interface Books {
  /** Users whose creation was answered 200: each must exist at the end. */
  users: string[];
  /** Access tokens whose revocation was answered 200. */
  revokedAccess: string[];
  /** Refresh tokens whose revocation was answered 200, with the app they were issued to. */
  revokedRefresh: { token: string; client: 'web' | 'victim' }[];
  /** Access tokens of the victim app issued before its deactivation was answered 200. */
  invalidated: string[];
  /** Refresh tokens already exchanged (rotation): a second use must fail. */
  spentRefresh: { token: string; client: 'web' | 'victim' }[];
  /** A revoked, invalidated or spent token that was accepted, with when and where. */
  violations: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T | undefined =>
  items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];

const basic = (client: { clientId: string; clientSecret: string }) =>
  `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;

/** What an answer says, read once, with whether its failure was clean. */
async function read(response: Response): Promise<{
  status: number;
  json: Record<string, unknown> | undefined;
  clean: boolean;
  text: string;
}> {
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  const isJson =
    (response.headers.get('content-type') ?? '').includes('json') && json !== undefined;
  // 4xx answers are the protocol's own (checked by the other suites); a 5xx must be a 503 in JSON.
  const clean = response.status < 500 || (response.status === 503 && isJson);
  return { status: response.status, json, clean, text };
}

export class MixedLoad {
  readonly samples: Sample[] = [];
  readonly books: Books = {
    users: [],
    revokedAccess: [],
    revokedRefresh: [],
    invalidated: [],
    spentRefresh: [],
    violations: [],
  };
  private readonly sessions: Session[] = [];
  private victimActive = true;
  /** From the moment the victim app's deactivation is asked for (its effect may precede the 200). */
  private victimDeactivating = false;
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly target: Target,
    private readonly tenant: ChaosTenant,
    private readonly options: { workers?: number; pauseMs?: number } = {},
  ) {}

  start(): void {
    const weights: [Op, number][] = [
      ['sign-in', 2],
      ['token', 3],
      ['refresh', 2],
      ['userinfo', 3],
      ['introspect', 3],
      ['revoke', 1],
      ['admin-write', 1],
      ['discovery', 1],
      ['revoked-check', 2],
    ];
    const total = weights.reduce((sum, [, w]) => sum + w, 0);
    const choose = (): Op => {
      let r = Math.random() * total;
      for (const [op, w] of weights) {
        r -= w;
        if (r < 0) return op;
      }
      return 'token';
    };
    const pauseMs = this.options.pauseMs ?? 60;
    this.workers = Array.from({ length: this.options.workers ?? 6 }, async (_, worker) => {
      // Each worker stands for a person at an address of their own (the edge's X-Forwarded-For is
      // believed from loopback), as sign-ins are budgeted per source address.
      const source = `10.66.0.${worker + 1}`;
      while (!this.stopped) {
        // Without sessions, a sign-in first: most operations need tokens.
        const op = this.sessions.length < 3 ? 'sign-in' : choose();
        await this.run(op, source);
        await sleep(pauseMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  /** Deactivates the victim app; from its 200 on, every token it was issued must be refused. */
  async deactivateVictim(): Promise<void> {
    this.victimDeactivating = true;
    const before = this.sessions.filter((s) => s.client === 'victim');
    const path = new URL(this.tenant.org).pathname.replace(/\/$/, '');
    for (;;) {
      const response = await fetch(
        `${this.target.url}${path}/api/v1/apps/${this.tenant.victim.clientId}/lifecycle/deactivate`,
        { method: 'POST', headers: { authorization: `SSWS ${this.tenant.apiToken}` } },
      ).catch(() => undefined);
      await response?.body?.cancel();
      if (response?.status === 200) break;
      await sleep(200);
    }
    this.victimActive = false;
    for (const session of before) {
      this.books.invalidated.push(session.access);
      this.sessions.splice(this.sessions.indexOf(session), 1);
    }
  }

  /**
   * A request with a token of the victim app, refused once the app's deactivation was asked for:
   * the right answer (401 at /userinfo and /revoke, 400 invalid_grant at /token, inactive at
   * /introspect), even when it comes before the deactivation's own 200 (the change is applied, read
   * your writes, before that answer).
   */
  private refusedForDeactivation(
    session: Session,
    result: { ok: boolean; status: number; clean: boolean; detail?: string },
  ): { ok: boolean; status: number; clean: boolean; detail?: string } {
    if (result.ok || session.client !== 'victim' || !this.victimDeactivating) return result;
    return [200, 400, 401].includes(result.status) ? { ...result, ok: true } : result;
  }

  /** A session no other worker is using, marked busy until `release`. */
  private take(): Session | undefined {
    const session = pick(this.sessions.filter((s) => !s.busy));
    if (session) session.busy = true;
    return session;
  }

  private clientOf(session: { client: 'web' | 'victim' }) {
    return session.client === 'web' ? this.tenant.web : this.tenant.victim;
  }

  private async run(op: Op, source: string): Promise<void> {
    const at = Date.now();
    let result: { ok: boolean; status: number; clean: boolean; detail?: string };
    try {
      result = await this.perform(op, source);
    } catch (error) {
      // No answer at all (connection reset, timeout): never clean.
      result = { ok: false, status: 0, clean: false, detail: String(error) };
    }
    this.samples.push({ op, at, ms: Date.now() - at, ...result });
  }

  private async perform(
    op: Op,
    source: string,
  ): Promise<{ ok: boolean; status: number; clean: boolean; detail?: string }> {
    const { tenant } = this;
    switch (op) {
      case 'sign-in':
        return this.signIn(source);
      case 'token': {
        const answer = await read(
          await this.post(`${tenant.issuer}/v1/token`, tenant.service, {
            grant_type: 'client_credentials',
            scope: 'chaos.read',
          }),
        );
        return outcome(
          answer,
          answer.status === 200 && typeof answer.json?.access_token === 'string',
        );
      }
      case 'refresh': {
        const session = this.take();
        if (!session) return this.signIn(source);
        try {
          const answer = await read(
            await this.post(`${tenant.issuer}/v1/token`, this.clientOf(session), {
              grant_type: 'refresh_token',
              refresh_token: session.refresh,
            }),
          );
          if (answer.status === 200 && typeof answer.json?.refresh_token === 'string') {
            session.spent.push(session.refresh);
            this.books.spentRefresh.push({ token: session.refresh, client: session.client });
            session.refresh = answer.json.refresh_token as string;
            session.access = answer.json.access_token as string;
            // Rotated while its app was being deactivated: this token must die with the others.
            if (session.client === 'victim' && !this.victimActive)
              this.books.invalidated.push(session.access);
            return outcome(answer, true);
          }
          return this.refusedForDeactivation(session, outcome(answer, false));
        } finally {
          session.busy = false;
        }
      }
      case 'userinfo': {
        const session = this.take();
        if (!session) return this.signIn(source);
        try {
          const answer = await read(
            await fetch(`${tenant.issuer}/v1/userinfo`, {
              headers: { authorization: `Bearer ${session.access}` },
            }),
          );
          return this.refusedForDeactivation(
            session,
            outcome(answer, answer.status === 200 && answer.json?.sub !== undefined),
          );
        } finally {
          session.busy = false;
        }
      }
      case 'introspect': {
        const session = this.take();
        if (!session) return this.signIn(source);
        try {
          const answer = await read(
            await this.post(`${tenant.issuer}/v1/introspect`, this.clientOf(session), {
              token: session.access,
              token_type_hint: 'access_token',
            }),
          );
          return this.refusedForDeactivation(
            session,
            outcome(answer, answer.status === 200 && answer.json?.active === true),
          );
        } finally {
          session.busy = false;
        }
      }
      case 'revoke': {
        const session = this.take();
        if (!session) return this.signIn(source);
        this.sessions.splice(this.sessions.indexOf(session), 1);
        const client = this.clientOf(session);
        const access = await read(
          await this.post(`${tenant.issuer}/v1/revoke`, client, {
            token: session.access,
            token_type_hint: 'access_token',
          }),
        );
        if (access.status !== 200)
          return this.refusedForDeactivation(session, outcome(access, false));
        this.books.revokedAccess.push(session.access);
        const refresh = await read(
          await this.post(`${tenant.issuer}/v1/revoke`, client, {
            token: session.refresh,
            token_type_hint: 'refresh_token',
          }),
        );
        if (refresh.status === 200)
          this.books.revokedRefresh.push({ token: session.refresh, client: session.client });
        return this.refusedForDeactivation(session, outcome(refresh, refresh.status === 200));
      }
      case 'admin-write': {
        const path = new URL(tenant.org).pathname.replace(/\/$/, '');
        const login = `chaos-${randomBytes(6).toString('hex')}@example.com`;
        const answer = await read(
          await fetch(`${this.target.url}${path}/api/v1/users?activate=false`, {
            method: 'POST',
            headers: {
              authorization: `SSWS ${tenant.apiToken}`,
              'content-type': 'application/json',
              accept: 'application/json',
            },
            body: JSON.stringify({
              profile: { firstName: 'Chaos', lastName: 'Monkey', email: login, login },
            }),
          }),
        );
        if (answer.status === 200 && typeof answer.json?.id === 'string')
          this.books.users.push(answer.json.id as string);
        return outcome(answer, answer.status === 200);
      }
      case 'discovery': {
        const answer = await read(await fetch(`${tenant.issuer}/v1/keys`));
        return outcome(
          answer,
          answer.status === 200 && Array.isArray(answer.json?.keys) && answer.json.keys.length > 0,
        );
      }
      case 'revoked-check':
        return this.checkRefused();
    }
  }

  /**
   * Shows the system one token it must refuse: a revoked or invalidated access token at userinfo
   * and introspection, or a spent or revoked refresh token at the token endpoint. Refused (or a
   * clean 503) is a success; accepted is a violation.
   */
  private async checkRefused(): Promise<{
    ok: boolean;
    status: number;
    clean: boolean;
    detail?: string;
  }> {
    const { tenant, books } = this;
    const kind = pick(['revoked', 'invalidated', 'refresh'] as const)!;
    if (kind === 'refresh') {
      const entry = pick([...books.revokedRefresh, ...books.spentRefresh]);
      if (!entry) return { ok: true, status: 0, clean: true };
      // A spent token coming back revokes its family (reuse detection): its session is done, and
      // its current access token is one more that must be refused from now on.
      const session = this.sessions.find((s) => s.spent.includes(entry.token));
      if (session?.busy) return { ok: true, status: 0, clean: true };
      if (session) this.sessions.splice(this.sessions.indexOf(session), 1);
      const answer = await read(
        await this.post(`${tenant.issuer}/v1/token`, this.clientOf(entry), {
          grant_type: 'refresh_token',
          refresh_token: entry.token,
        }),
      );
      if (answer.status === 200) {
        books.violations.push(`${new Date().toISOString()} refresh token accepted again`);
        return outcome(answer, false);
      }
      if (session && answer.status === 400) books.invalidated.push(session.access);
      return outcome(
        answer,
        answer.status === 400 || answer.status === 401 || answer.status === 503,
      );
    }
    const token = pick(kind === 'revoked' ? books.revokedAccess : books.invalidated);
    if (!token) return { ok: true, status: 0, clean: true };
    const answer = await read(
      await fetch(`${tenant.issuer}/v1/userinfo`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    if (answer.status === 200) {
      books.violations.push(
        `${new Date().toISOString()} ${kind} access token accepted at userinfo`,
      );
      return outcome(answer, false);
    }
    const introspected = await read(
      await this.post(`${tenant.issuer}/v1/introspect`, tenant.web, { token }),
    );
    if (introspected.status === 200 && introspected.json?.active === true) {
      books.violations.push(
        `${new Date().toISOString()} ${kind} access token active at introspect`,
      );
      return outcome(introspected, false);
    }
    return outcome(introspected, introspected.status === 200 || introspected.status === 503);
  }

  private async signIn(source: string): Promise<{
    ok: boolean;
    status: number;
    clean: boolean;
    detail?: string;
  }> {
    const which = this.victimActive && Math.random() < 0.25 ? 'victim' : 'web';
    const result = await this.signInTo(which, source);
    // The app was deactivated while its user was signing in: refusing is the right answer, from
    // the moment the deactivation is asked for (its effect may precede its own 200).
    if (
      !result.ok &&
      which === 'victim' &&
      this.victimDeactivating &&
      result.status >= 400 &&
      result.status < 500
    )
      return { ...result, ok: true };
    return result;
  }

  private async signInTo(
    which: 'web' | 'victim',
    source: string,
  ): Promise<{ ok: boolean; status: number; clean: boolean; detail?: string }> {
    const { tenant } = this;
    const client = which === 'web' ? tenant.web : tenant.victim;
    const authn = await read(
      await fetch(`${tenant.org}/api/v1/authn`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-forwarded-for': source,
        },
        body: JSON.stringify({ username: tenant.login, password: tenant.password }),
      }),
    );
    if (authn.status !== 200) return outcome(authn, false, 'authn');
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${tenant.issuer}/v1/authorize`);
    url.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: tenant.redirectUri,
      response_type: 'code',
      scope: 'openid profile offline_access',
      state: randomBytes(8).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      sessionToken: authn.json?.sessionToken as string,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const authorize = await fetch(url, { redirect: 'manual' });
    const location = authorize.headers.get('location') ?? '';
    const authorized = await read(authorize);
    const params = location ? new URL(location).searchParams : new URLSearchParams();
    const code = params.get('code');
    if (authorize.status !== 302 || !code) {
      // An error redirect (temporarily_unavailable) is the protocol's clean refusal; so is the
      // authorize service's own error page when it cannot check the redirect_uri to redirect to
      // (its read models too stale to trust): a browser path answers a page, never JSON.
      const errorPage =
        authorize.status === 503 &&
        (authorize.headers.get('content-type') ?? '').startsWith('text/html') &&
        authorized.text.includes('temporarily_unavailable');
      const clean =
        authorize.status === 302 ? params.get('error') !== null : authorized.clean || errorPage;
      return { ok: false, status: authorize.status, clean, detail: `authorize ${location}` };
    }
    const exchanged = await read(
      await this.post(`${tenant.issuer}/v1/token`, client, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: tenant.redirectUri,
        code_verifier: verifier,
      }),
    );
    if (exchanged.status !== 200) return outcome(exchanged, false, 'code exchange');
    const session: Session = {
      client: which,
      access: exchanged.json?.access_token as string,
      refresh: exchanged.json?.refresh_token as string,
      spent: [],
      busy: false,
    };
    // A sign-in of the victim that raced its deactivation: its tokens count as invalidated.
    if (which === 'victim' && !this.victimActive) this.books.invalidated.push(session.access);
    else {
      this.sessions.push(session);
      const idle = this.sessions.findIndex((s) => !s.busy);
      if (this.sessions.length > 40 && idle >= 0) this.sessions.splice(idle, 1);
    }
    return outcome(exchanged, true);
  }

  private post(
    url: string,
    client: { clientId: string; clientSecret: string },
    form: Record<string, string>,
  ): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: {
        authorization: basic(client),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
    });
  }
}

function outcome(
  answer: { status: number; clean: boolean; text: string },
  ok: boolean,
  step?: string,
): { ok: boolean; status: number; clean: boolean; detail?: string } {
  return ok
    ? { ok, status: answer.status, clean: true }
    : {
        ok,
        status: answer.status,
        clean: answer.clean,
        detail: `${step ? `${step}: ` : ''}${answer.text.slice(0, 200)}`,
      };
}
