// The budgets of client authentication at /token, /introspect and /revoke: requests per client id,
// and failed authentications per client id and source address, past which that source's requests
// for the client are refused before any secret is checked.
import type { IncomingMessage } from 'node:http';
import { rateLimited, rateLimitHeaders, sourceAddress, type TrustedProxies } from '@gatehouse/http';
import type { RateLimiter } from '@gatehouse/rate-limits';

export class ClientThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly trusted: TrustedProxies,
    private readonly now: () => number,
  ) {}

  private failureKey(req: IncomingMessage, clientId: string) {
    return `${clientId}\0${sourceAddress(req, this.trusted)}`;
  }

  /**
   * Counts the request, and takes a point of the source's failure budget until the outcome is known
   * (so that concurrent guesses cannot all pass its last point); throws 429 E0000047 past either.
   * Answers the X-Rate-Limit headers of the client's budget.
   */
  async admit(
    req: IncomingMessage,
    tenant: string,
    clientId: string,
  ): Promise<Record<string, string>> {
    const failureKey = this.failureKey(req, clientId);
    const [requests, failures] = await Promise.all([
      this.limiter.take(tenant, 'tokenClient', clientId),
      this.limiter.take(tenant, 'tokenClientFailures', failureKey),
    ]);
    if (!requests.allowed || !failures.allowed) {
      if (failures.allowed) await this.succeeded(req, tenant, clientId);
      throw rateLimited(requests.allowed ? failures : requests, this.now());
    }
    return rateLimitHeaders(requests);
  }

  /** The client authenticated: its point of the failure budget goes back. */
  async succeeded(req: IncomingMessage, tenant: string, clientId: string): Promise<void> {
    await this.limiter.giveBack(tenant, 'tokenClientFailures', this.failureKey(req, clientId));
  }
}
