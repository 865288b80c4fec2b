import { describe, expect, it } from 'vitest';
import { memoryRateLimiter } from './rate-limiter.js';
import { defaultRateLimits, readRateLimitConfig } from './rules.js';
import { describeRateLimiterConformance } from './testing/conformance.js';

describeRateLimiterConformance({
  name: 'memory',
  open: async (config) => memoryRateLimiter(config),
});

describe('GATEHOUSE_RATE_LIMITS', () => {
  it('defaults every rule when unset', () => {
    expect(readRateLimitConfig({}).defaults).toEqual(defaultRateLimits);
  });

  it('reads defaults and per-tenant rules, keeping the other defaults', () => {
    const config = readRateLimitConfig({
      GATEHOUSE_RATE_LIMITS: JSON.stringify({
        defaults: { signInSource: { limit: 300, windowSeconds: 60 } },
        tenants: { acme: { tokenClient: { limit: 60000, windowSeconds: 60 } } },
      }),
    });
    expect(config.defaults.signInSource).toEqual({ limit: 300, windowSeconds: 60 });
    expect(config.defaults.tokenClient).toEqual(defaultRateLimits.tokenClient);
    expect(config.tenants.acme).toEqual({ tokenClient: { limit: 60000, windowSeconds: 60 } });
  });

  it.each([
    ['{', 'GATEHOUSE_RATE_LIMITS: is not JSON'],
    ['[]', '$: must be an object'],
    ['{"defualts":{}}', '$: has unknown fields defualts'],
    ['{"defaults":{"tokenClients":{}}}', '$.defaults.tokenClients: is not a rule'],
    [
      '{"defaults":{"tokenClient":{"limit":0,"windowSeconds":60}}}',
      '$.defaults.tokenClient.limit: must be a whole number',
    ],
    [
      '{"tenants":{"acme":{"signInLogin":{"limit":5,"windowSeconds":0.5}}}}',
      '$.tenants.acme.signInLogin.windowSeconds: must be a whole number',
    ],
  ])('refuses %s with a message naming the problem', (value, message) => {
    expect(() => readRateLimitConfig({ GATEHOUSE_RATE_LIMITS: value })).toThrow(message);
  });
});
