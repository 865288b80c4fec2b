// The request budgets Gatehouse keeps (SPEC sections 4 and 5, issue "Abuse resistance"): what each
// rule counts, its default, and the per-tenant settings read from GATEHOUSE_RATE_LIMITS.
import { ConfigError, type Environment } from '@gatehouse/config';

/** A budget: at most `limit` requests per `windowSeconds`, counted per key in fixed windows. */
export interface Rule {
  limit: number;
  windowSeconds: number;
}

export const ruleNames = [
  'tokenClient',
  'tokenClientFailures',
  'signInLogin',
  'signInSource',
  'userCodeSource',
  'userCodeSession',
  'managementToken',
] as const;
export type RuleName = (typeof ruleNames)[number];
export type RateLimitSettings = Record<RuleName, Rule>;

/**
 * The defaults, per tenant. Generous for real traffic, tight where the request is an attack's:
 * - `tokenClient`: requests per client id at /token, /introspect and /revoke, 6000 a minute.
 * - `tokenClientFailures`: failed client authentications per client id and source address, 20 a
 *   minute; past it that source's requests for the client answer 429 before any secret is
 *   checked (guessing stops; the client's other sources are not affected).
 * - `signInLogin`: sign-in attempts per login at /api/v1/authn and the sign-in page together,
 *   30 a minute (the lockout still counts failures; this also bounds a login sprayed from many
 *   sources).
 * - `signInSource`: sign-in attempts per source address, 120 a minute (random logins from one
 *   source would each start a fresh lockout counter; this is what bounds them).
 * - `userCodeSource`: user codes entered on the device verification page (RFC 8628) per source
 *   address, 30 a minute; `userCodeSession`: per browser session, 10 a minute. A user code is 8
 *   characters of 20 (34.6 bits) and lives 10 minutes: these keep guessing one in bulk hopeless
 *   (RFC 8628 section 5.1), and no person types more.
 * - `managementToken`: management API requests per tenant API token, 1200 a minute.
 */
export const defaultRateLimits: Readonly<RateLimitSettings> = Object.freeze({
  tokenClient: { limit: 6000, windowSeconds: 60 },
  tokenClientFailures: { limit: 20, windowSeconds: 60 },
  signInLogin: { limit: 30, windowSeconds: 60 },
  signInSource: { limit: 120, windowSeconds: 60 },
  userCodeSource: { limit: 30, windowSeconds: 60 },
  userCodeSession: { limit: 10, windowSeconds: 60 },
  managementToken: { limit: 1200, windowSeconds: 60 },
});

export interface RateLimitConfig {
  /** Every tenant's rules unless it has its own. */
  defaults: RateLimitSettings;
  /** Rules of single tenants, by tenant id; a rule not named here is the default. */
  tenants: Readonly<Record<string, Partial<RateLimitSettings>>>;
}

export const defaultRateLimitConfig: RateLimitConfig = {
  defaults: { ...defaultRateLimits },
  tenants: {},
};

/** The rule that holds for a tenant. */
export function ruleFor(config: RateLimitConfig, tenant: string, name: RuleName): Rule {
  return config.tenants[tenant]?.[name] ?? config.defaults[name];
}

const variable = 'GATEHOUSE_RATE_LIMITS';

/**
 * GATEHOUSE_RATE_LIMITS: JSON, every part optional. Default: the defaults above for every tenant.
 * `{"defaults": {"signInSource": {"limit": 300, "windowSeconds": 60}},
 *   "tenants": {"acme": {"tokenClient": {"limit": 60000, "windowSeconds": 60}}}}`
 */
export function readRateLimitConfig(env: Environment): RateLimitConfig {
  const text = env[variable]?.trim();
  if (!text) return defaultRateLimitConfig;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, 'is not JSON');
  }
  return rateLimitConfigOf(parsed, variable);
}

/** Checks a settings object (from the environment or a test); the error names where it is wrong. */
export function rateLimitConfigOf(value: unknown, source = 'rate limits'): RateLimitConfig {
  const problem = (path: string, what: string) => new ConfigError(source, `${path}: ${what}`);
  const object = (candidate: unknown, path: string): Record<string, unknown> => {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate))
      throw problem(path, 'must be an object');
    return candidate as Record<string, unknown>;
  };
  const rules = (candidate: unknown, path: string): Partial<RateLimitSettings> => {
    const out: Partial<RateLimitSettings> = {};
    for (const [name, rule] of Object.entries(object(candidate, path))) {
      if (!(ruleNames as readonly string[]).includes(name))
        throw problem(`${path}.${name}`, `is not a rule (rules: ${ruleNames.join(', ')})`);
      const { limit, windowSeconds, ...rest } = object(rule, `${path}.${name}`);
      if (Object.keys(rest).length > 0)
        throw problem(`${path}.${name}`, `has unknown fields ${Object.keys(rest).join(', ')}`);
      if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1e9)
        throw problem(`${path}.${name}.limit`, 'must be a whole number from 1 to 1000000000');
      if (
        !Number.isInteger(windowSeconds) ||
        (windowSeconds as number) < 1 ||
        (windowSeconds as number) > 86_400
      )
        throw problem(`${path}.${name}.windowSeconds`, 'must be a whole number from 1 to 86400');
      out[name as RuleName] = { limit: limit as number, windowSeconds: windowSeconds as number };
    }
    return out;
  };
  const { defaults, tenants, ...rest } = object(value, '$');
  if (Object.keys(rest).length > 0)
    throw problem('$', `has unknown fields ${Object.keys(rest).join(', ')} (defaults, tenants)`);
  const tenantRules: Record<string, Partial<RateLimitSettings>> = {};
  if (tenants !== undefined)
    for (const [tenant, settings] of Object.entries(object(tenants, '$.tenants')))
      tenantRules[tenant] = rules(settings, `$.tenants.${tenant}`);
  return {
    defaults: {
      ...defaultRateLimits,
      ...(defaults === undefined ? {} : rules(defaults, '$.defaults')),
    },
    tenants: tenantRules,
  };
}

/** The same limits with every rule raised to `limit` (benches and suites that send floods). */
export function raisedRateLimits(limit = 1e9): RateLimitConfig {
  const defaults = Object.fromEntries(
    ruleNames.map((name) => [name, { limit, windowSeconds: 60 }]),
  ) as RateLimitSettings;
  return { defaults, tenants: {} };
}
