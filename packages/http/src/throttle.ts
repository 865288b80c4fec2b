// Request budgets at the edges: who a request comes from (the socket's address, or what a trusted
// proxy says it forwarded), Okta's X-Rate-Limit-* headers, and the 429 E0000047 answer.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { ConfigError, type Environment } from '@gatehouse/config';
import { OktaApiError } from './okta-errors.js';

/** A budget as a request sees it (the rate limiter's verdict). */
export interface Budget {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the window ends. */
  resetAt: number;
}

/** Okta's headers: the limit, what is left of it, and when it resets (epoch seconds). */
export function rateLimitHeaders(budget: Budget): Record<string, string> {
  return {
    'X-Rate-Limit-Limit': String(budget.limit),
    'X-Rate-Limit-Remaining': String(budget.remaining),
    'X-Rate-Limit-Reset': String(Math.ceil(budget.resetAt / 1000)),
  };
}

/** The 429 for a spent budget, with its headers and Retry-After. */
export function rateLimited(budget: Budget, now = Date.now()): OktaApiError {
  return OktaApiError.rateLimited({
    ...rateLimitHeaders(budget),
    'Retry-After': String(Math.max(1, Math.ceil((budget.resetAt - now) / 1000))),
  });
}

/** The proxies whose X-Forwarded-For is believed (the edge in front of the service). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly any: boolean;

  /** `entries`: addresses and CIDR ranges, IPv4 or IPv6 (`127.0.0.1`, `10.0.0.0/8`, `::1`). */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, bits] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0) throw new RangeError(`${entry} is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(address!, type);
      else {
        const prefix = Number(bits);
        if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128))
          throw new RangeError(`${entry} has no valid prefix length`);
        this.list.addSubnet(address!, prefix, type);
      }
    }
    this.any = entries.length > 0;
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  static none = new TrustedProxies([]);
}

/**
 * GATEHOUSE_TRUSTED_PROXIES: comma-separated addresses and CIDR ranges of the proxies in front of
 * the service whose X-Forwarded-For is believed. Default none: the source of a request is its
 * socket's address. `pnpm stack` sets its edge's (loopback).
 */
export function readTrustedProxies(env: Environment): TrustedProxies {
  const value = env.GATEHOUSE_TRUSTED_PROXIES?.trim();
  if (!value) return TrustedProxies.none;
  try {
    return new TrustedProxies(
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    );
  } catch (error) {
    throw new ConfigError('GATEHOUSE_TRUSTED_PROXIES', (error as Error).message);
  }
}

const unmapped = (address: string) =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

/**
 * Where a request comes from: the socket's address; when that is a trusted proxy, the nearest
 * address of X-Forwarded-For that is not one (read from the right, as each proxy appends what it
 * saw; what a client wrote further left cannot be believed).
 */
export function sourceAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  let source = unmapped(req.socket.remoteAddress ?? '');
  if (!trusted.any || !trusted.has(source)) return source;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => unmapped(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    source = hop;
    if (!trusted.has(hop)) break;
  }
  return source;
}
