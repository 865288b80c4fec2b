// The authorize service's short-lived flow state (SPEC section 6), written to Redis directly: browser
// sessions, one-time sessionTokens, pending authorization requests (between /authorize and the
// login or consent page), and failed sign-in counters. Not under `rm:`: dropping and rebuilding the
// projections leaves them alone. Secrets (session ids, sessionTokens) are kept only as SHA-256.
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { AuthorizationRequest } from './authorize-request.js';

export const flowKeys = {
  session: (tenant: string, sidSha256: string) => `fs:session:${tenant}:${sidSha256}`,
  sessionToken: (tenant: string, sha256: string) => `fs:session-token:${tenant}:${sha256}`,
  transaction: (tenant: string, id: string) => `fs:authz-tx:${tenant}:${id}`,
  failures: (tenant: string, login: string) => `fs:authn-failures:${tenant}:${login.toLowerCase()}`,
  /** The device verification page's CSRF token, per browser (by its cookie's SHA-256). */
  activateCsrf: (tenant: string, browserSha256: string) =>
    `fs:activate-csrf:${tenant}:${browserSha256}`,
};

/** Who signed in, when and how. */
export interface Authentication {
  userId: string;
  /** epoch seconds */
  authTime: number;
  amr: string[];
}

/** A browser session: the sign-in it stands for, until it ends. */
export interface Session extends Authentication {
  /** epoch ms */
  expiresAt: number;
}

/** An authorization request waiting for its user to sign in or consent. */
export interface Transaction {
  id: string;
  request: AuthorizationRequest;
  /** SHA-256 of the browser cookie the request came with: only that browser may continue it. */
  browserSha256: string;
  /** The token the login and consent forms must send back (CSRF). */
  csrf: string;
  /** Set once the user signed in during this request (prompt=login is then satisfied). */
  signedInAt?: number;
  /**
   * The sign-in a sessionToken brought while another user's session was on: it replaces that
   * session only when the user says so on the switch-user page.
   */
  switchTo?: Authentication;
  /** epoch ms */
  expiresAt: number;
}

export const newSecret = () => randomBytes(32).toString('base64url');

export interface FlowStateOptions {
  now: () => number;
  sessionLifetimeMs: number;
  sessionTokenLifetimeMs: number;
  transactionLifetimeMs: number;
  lockout: { maxFailures: number; durationMs: number };
}

export const defaultFlowOptions: Omit<FlowStateOptions, 'now'> = {
  // Okta's default session lifetime.
  sessionLifetimeMs: 2 * 3600_000,
  sessionTokenLifetimeMs: 5 * 60_000,
  transactionLifetimeMs: 15 * 60_000,
  // Okta's default password policy: locked out after 10 failures in a row.
  lockout: { maxFailures: 10, durationMs: 15 * 60_000 },
};

export class FlowState {
  constructor(
    private readonly store: ProjectionStore,
    readonly options: FlowStateOptions,
  ) {}

  async newSession(tenant: string, authentication: Authentication): Promise<string> {
    const sid = newSecret();
    const session: Session = {
      ...authentication,
      expiresAt: this.options.now() + this.options.sessionLifetimeMs,
    };
    await this.store.set(flowKeys.session(tenant, sha256Hex(sid)), JSON.stringify(session), {
      ttlMs: this.options.sessionLifetimeMs,
    });
    return sid;
  }

  async session(tenant: string, sid: string | undefined): Promise<Session | undefined> {
    if (!sid || sid.length > 100) return undefined;
    const value = await this.store.get(flowKeys.session(tenant, sha256Hex(sid)));
    if (!value) return undefined;
    const session = JSON.parse(value) as Session;
    return session.expiresAt > this.options.now() ? session : undefined;
  }

  async endSession(tenant: string, sid: string | undefined): Promise<void> {
    if (sid && sid.length <= 100) await this.store.del([flowKeys.session(tenant, sha256Hex(sid))]);
  }

  async newSessionToken(
    tenant: string,
    authentication: Authentication,
  ): Promise<{ token: string; expiresAt: number }> {
    const token = newSecret();
    const expiresAt = this.options.now() + this.options.sessionTokenLifetimeMs;
    await this.store.set(
      flowKeys.sessionToken(tenant, sha256Hex(token)),
      JSON.stringify({ ...authentication, expiresAt }),
      { ttlMs: this.options.sessionTokenLifetimeMs },
    );
    return { token, expiresAt };
  }

  /** Redeems a sessionToken: of concurrent redemptions, exactly one gets the sign-in. */
  async redeemSessionToken(tenant: string, token: string): Promise<Authentication | undefined> {
    if (token.length > 100) return undefined;
    const value = await this.store.getDel(flowKeys.sessionToken(tenant, sha256Hex(token)));
    if (!value) return undefined;
    const { expiresAt, ...authentication } = JSON.parse(value) as Authentication & {
      expiresAt: number;
    };
    return expiresAt > this.options.now() ? authentication : undefined;
  }

  async newTransaction(
    tenant: string,
    request: AuthorizationRequest,
    browserSha256: string,
  ): Promise<Transaction> {
    const transaction: Transaction = {
      id: randomBytes(16).toString('base64url'),
      request,
      browserSha256,
      csrf: newSecret(),
      expiresAt: this.options.now() + this.options.transactionLifetimeMs,
    };
    await this.saveTransaction(tenant, transaction);
    return transaction;
  }

  async saveTransaction(tenant: string, transaction: Transaction): Promise<void> {
    const ttlMs = transaction.expiresAt - this.options.now();
    if (ttlMs <= 0) return;
    await this.store.set(
      flowKeys.transaction(tenant, transaction.id),
      JSON.stringify(transaction),
      {
        ttlMs,
      },
    );
  }

  async transaction(tenant: string, id: string | undefined): Promise<Transaction | undefined> {
    if (!id || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const value = await this.store.get(flowKeys.transaction(tenant, id));
    if (!value) return undefined;
    const transaction = JSON.parse(value) as Transaction;
    return transaction.expiresAt > this.options.now() ? transaction : undefined;
  }

  /** Ends a transaction once it has been answered: its forms cannot be sent again. */
  async endTransaction(tenant: string, id: string): Promise<void> {
    await this.store.del([flowKeys.transaction(tenant, id)]);
  }

  /** Whether sign-in for this login is locked out now. */
  async lockedOut(tenant: string, login: string): Promise<boolean> {
    const count = Number((await this.store.get(flowKeys.failures(tenant, login))) ?? '0');
    return count >= this.options.lockout.maxFailures;
  }

  /** Counts a failed sign-in; true when the login is locked out from now on. */
  async failedSignIn(tenant: string, login: string): Promise<boolean> {
    const key = flowKeys.failures(tenant, login);
    const { maxFailures, durationMs } = this.options.lockout;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await this.store.get(key);
      const next = Number(current ?? '0') + 1;
      if (await this.store.compareAndSet(key, current, String(next), { ttlMs: durationMs }))
        return next >= maxFailures;
    }
    return true; // under that much contention, err on the side of locking
  }

  async signedIn(tenant: string, login: string): Promise<void> {
    await this.store.del([flowKeys.failures(tenant, login)]);
  }
}
