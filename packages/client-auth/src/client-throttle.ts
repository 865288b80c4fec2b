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
   * Counts the request once its client authentication is decided (in memory: the client's cached
   * view and a digest), in one round trip: a failure takes a point of the source's failure budget,
   * atomically with the check against it, so that concurrent guesses cannot all pass its last
   * point; a success only looks at that budget, as a source past it is refused even the right
   * secret. Throws 429 E0000047 past either budget, whatever the outcome, so that a refused source
   * learns nothing of its guesses. Answers the X-Rate-Limit headers of the client's budget.
   */
  async admit(
    req: IncomingMessage,
    tenant: string,
    clientId: string,
    authenticated: boolean,
  ): Promise<Record<string, string>> {
    const failureKey = this.failureKey(req, clientId);
    const [requests, failures] = await Promise.all([
      this.limiter.take(tenant, 'tokenClient', clientId),
      authenticated
        ? this.limiter.peek(tenant, 'tokenClientFailures', failureKey)
        : this.limiter.take(tenant, 'tokenClientFailures', failureKey),
    ]);
    if (!requests.allowed || !failures.allowed)
      throw rateLimited(requests.allowed ? failures : requests, this.now());
    return rateLimitHeaders(requests);
  }
}
