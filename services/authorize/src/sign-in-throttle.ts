// The budgets of sign-in attempts, at /api/v1/authn and the sign-in page together: per source
// address (random logins from one source each start a fresh lockout counter; this bounds them) and
// per login (one login sprayed from many sources).
import type { IncomingMessage } from 'node:http';
import { type Budget, rateLimitHeaders, sourceAddress, type TrustedProxies } from '@gatehouse/http';
import type { RateLimiter } from '@gatehouse/rate-limits';

export interface SignInAdmission {
  /** Where the attempt comes from (its place in the password check queue is under it). */
  source: string;
  /** The budget to report: a spent one, else the one with less left. */
  budget: Budget;
  headers: Record<string, string>;
}

export class SignInThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly trusted: TrustedProxies,
  ) {}

  /**
   * The source's budget as it stands, before the request's body is read: a source that has spent
   * it is refused without the work of reading, parsing and checking what it sent.
   */
  async spentBySource(req: IncomingMessage, tenant: string): Promise<Budget | undefined> {
    const budget = await this.limiter.peek(
      tenant,
      'signInSource',
      sourceAddress(req, this.trusted),
    );
    return budget.allowed ? undefined : budget;
  }

  async admit(req: IncomingMessage, tenant: string, login: string): Promise<SignInAdmission> {
    const source = sourceAddress(req, this.trusted);
    const [bySource, byLogin] = await Promise.all([
      this.limiter.take(tenant, 'signInSource', source),
      this.limiter.take(tenant, 'signInLogin', login.trim().toLowerCase()),
    ]);
    const budget = !bySource.allowed
      ? bySource
      : !byLogin.allowed
        ? byLogin
        : byLogin.remaining < bySource.remaining
          ? byLogin
          : bySource;
    return { source, budget, headers: rateLimitHeaders(budget) };
  }
}
