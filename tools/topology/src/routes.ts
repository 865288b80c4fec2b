// Which service owns each public path. Paths may carry a tenant prefix (`/{tenant}/...`, path mode)
// or not (host mode, and the system API `/api/v1/tenants`): every pattern takes it as optional, so
// one table serves both modes. Order matters: the first match wins, as with nginx regex locations.
// Anything no route claims goes to admin, which answers Okta's 404.
import type { Upstream } from './services.js';

export interface Route {
  upstream: Upstream;
  /** A regular expression on the request path, valid both in JavaScript and in nginx (PCRE). */
  pattern: string;
}

const tenant = '(/[a-z0-9-]{2,40})?';
const server = '(/[^/]+)?';

export const routes: readonly Route[] = [
  { upstream: 'authorize', pattern: `^${tenant}/api/v1/authn$` },
  { upstream: 'authorize', pattern: `^${tenant}/api/v1/sessions/me$` },
  { upstream: 'keys', pattern: `^${tenant}/api/v1/authorizationServers/[^/]+/credentials(/.*)?$` },
  { upstream: 'admin', pattern: `^${tenant}/api/v1/` },
  { upstream: 'admin', pattern: `^${tenant}/oauth2/v1/clients(/.*)?$` },
  { upstream: 'keys', pattern: `^${tenant}/oauth2${server}/v1/keys$` },
  {
    upstream: 'keys',
    pattern: `^${tenant}(/oauth2/[^/]+)?/\\.well-known/(openid-configuration|oauth-authorization-server)$`,
  },
  { upstream: 'token', pattern: `^${tenant}/oauth2${server}/v1/(token|introspect|revoke)$` },
  { upstream: 'authorize', pattern: `^${tenant}/oauth2${server}/v1/(authorize|logout)$` },
  { upstream: 'authorize', pattern: `^${tenant}/(login|consent|switch-user)$` },
  { upstream: 'userinfo', pattern: `^${tenant}/oauth2${server}/v1/userinfo$` },
];

/**
 * Paths every service answers on its own port for the platform (probes, Prometheus metrics), with or
 * without a tenant prefix: the edge answers them 404 itself and proxies none (SPEC section 9).
 * Exact paths only, so that a tenant named `metrics` keeps its own paths.
 */
export const internalPathPattern = `^${tenant}/(healthz|readyz|metrics)$`;

/** The service that owns the route everything unclaimed goes to. */
export const fallbackUpstream: Upstream = 'admin';

const compiled = routes.map((route) => ({ ...route, regex: new RegExp(route.pattern) }));

/** The service that answers `path` (the path only, no query). */
export function upstreamOf(path: string): Upstream {
  for (const route of compiled) if (route.regex.test(path)) return route.upstream;
  return fallbackUpstream;
}
