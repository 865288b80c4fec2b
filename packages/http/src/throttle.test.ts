import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { OktaApiError } from './okta-errors.js';
import {
  rateLimited,
  rateLimitHeaders,
  readTrustedProxies,
  sourceAddress,
  TrustedProxies,
} from './throttle.js';

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('sourceAddress', () => {
  const loopback = new TrustedProxies(['127.0.0.1', '::1', '10.1.0.0/16']);

  it("is the socket's address when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(sourceAddress(request('203.0.113.9', '198.51.100.1'), TrustedProxies.none)).toBe(
      '203.0.113.9',
    );
    expect(sourceAddress(request('::ffff:203.0.113.9'), TrustedProxies.none)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a socket that is not a trusted proxy', () => {
    expect(sourceAddress(request('203.0.113.9', '198.51.100.1'), loopback)).toBe('203.0.113.9');
  });

  it('takes the nearest untrusted hop behind trusted proxies, not what the client wrote first', () => {
    // The client claimed 192.0.2.66; the edge appended the address it saw, 198.51.100.7.
    expect(
      sourceAddress(request('::ffff:127.0.0.1', '192.0.2.66, 198.51.100.7, 10.1.2.3'), loopback),
    ).toBe('198.51.100.7');
    expect(sourceAddress(request('::1', '2001:db8::5'), loopback)).toBe('2001:db8::5');
  });

  it('stops at a hop that is not an address', () => {
    expect(sourceAddress(request('127.0.0.1', 'unknown, 10.1.0.9'), loopback)).toBe('10.1.0.9');
    expect(sourceAddress(request('127.0.0.1', ''), loopback)).toBe('127.0.0.1');
  });
});

describe('GATEHOUSE_TRUSTED_PROXIES', () => {
  it('reads addresses and ranges, and refuses what is neither, naming the variable', () => {
    const trusted = readTrustedProxies({ GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1, fd00::/8' });
    expect(trusted.has('127.0.0.1')).toBe(true);
    expect(trusted.has('fd12::1')).toBe(true);
    expect(trusted.has('127.0.0.2')).toBe(false);
    expect(readTrustedProxies({}).any).toBe(false);
    expect(() => readTrustedProxies({ GATEHOUSE_TRUSTED_PROXIES: 'localhost' })).toThrow(
      'GATEHOUSE_TRUSTED_PROXIES: localhost is not an IP address',
    );
    expect(() => readTrustedProxies({ GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(
      'no valid prefix length',
    );
  });
});

describe('rate limit answers', () => {
  it("carry Okta's headers and E0000047", () => {
    const budget = { allowed: false, limit: 20, remaining: 0, resetAt: 1_700_000_030_500 };
    expect(rateLimitHeaders(budget)).toEqual({
      'X-Rate-Limit-Limit': '20',
      'X-Rate-Limit-Remaining': '0',
      'X-Rate-Limit-Reset': '1700000031',
    });
    const error = rateLimited(budget, 1_700_000_000_000);
    expect(error).toBeInstanceOf(OktaApiError);
    expect(error).toMatchObject({ status: 429, errorCode: 'E0000047' });
    expect(error.headers['Retry-After']).toBe('31');
  });
});
