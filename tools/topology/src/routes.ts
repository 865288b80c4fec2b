// Which service owns each public path. Paths may carry a tenant prefix (`/{tenant}/...`, path mode)
// or not (host mode, and the system API `/api/v1/tenants`): every pattern takes it as optional, so
// one table serves both modes. Order matters: the first match wins, as with nginx regex locations.
// Anything no route claims goes to admin, which answers Okta's 404.
import type { Upstream } from './services.js';

export interface Route {
  upstream: Upstream;
  /** A regular expression on the request path, valid both in JavaScript and in nginx (PCRE). */
  pattern: string;
  /**
   * The error shape of the path, for what the edge answers when its service is unavailable: Okta's
   * (`errorCode`, ...) on the management and authentication APIs, OAuth's (`error`) elsewhere.
   */
  errors: ErrorShape;
  /**
   * Whether a POST already sent to a replica that then died may be sent to another one: true only
   * where doing it twice changes nothing (introspection reads; revoking twice revokes once). A
   * code exchange or a refresh may have been acted on, and is never sent again.
   */
  retrySent?: boolean;
}

export type ErrorShape = 'okta' | 'oauth';

const tenant = '(/[a-z0-9-]{2,40})?';
const server = '(/[^/]+)?';

export const routes: readonly Route[] = [
  { upstream: 'authorize', pattern: `^${tenant}/api/v1/authn$`, errors: 'okta' },
  { upstream: 'authorize', pattern: `^${tenant}/api/v1/sessions/me$`, errors: 'okta' },
  {
    upstream: 'keys',
    pattern: `^${tenant}/api/v1/authorizationServers/[^/]+/credentials(/.*)?$`,
    errors: 'okta',
  },
  { upstream: 'admin', pattern: `^${tenant}/api/v1/`, errors: 'okta' },
  { upstream: 'admin', pattern: `^${tenant}/oauth2/v1/clients(/.*)?$`, errors: 'okta' },
  { upstream: 'keys', pattern: `^${tenant}/oauth2${server}/v1/keys$`, errors: 'oauth' },
  {
    upstream: 'keys',
    pattern: `^${tenant}(/oauth2/[^/]+)?/\\.well-known/(openid-configuration|oauth-authorization-server)$`,
    errors: 'oauth',
  },
  { upstream: 'token', pattern: `^${tenant}/oauth2${server}/v1/token$`, errors: 'oauth' },
  {
    upstream: 'token',
    pattern: `^${tenant}/oauth2${server}/v1/(introspect|revoke)$`,
    errors: 'oauth',
    retrySent: true,
  },
  {
    upstream: 'authorize',
    pattern: `^${tenant}/oauth2${server}/v1/(authorize|logout|par|device/authorize)$`,
    errors: 'oauth',
  },
  {
    upstream: 'authorize',
    pattern: `^${tenant}/(login|consent|switch-user|activate)$`,
    errors: 'oauth',
  },
  { upstream: 'userinfo', pattern: `^${tenant}/oauth2${server}/v1/userinfo$`, errors: 'oauth' },
];

/** The service that owns the route everything unclaimed goes to (Okta's 404 for the unknown). */
export const fallbackUpstream: Upstream = 'admin';
export const fallbackErrors: ErrorShape = 'okta';

/**
 * Paths each service answers on its own port for the orchestrator (probes, metrics): the edge
 * refuses them, so that they are not reachable from the public side.
 */
export const internalPaths: readonly string[] = ['/healthz', '/readyz', '/metrics'];

/**
 * The internal paths with or without a tenant prefix: the edge answers them 404 itself and proxies
 * none (SPEC section 9). Exact paths only, so that a tenant named `metrics` keeps its own paths.
 */
export const internalPathPattern = `^${tenant}/(${internalPaths.map((path) => path.slice(1)).join('|')})$`;

const compiled = routes.map((route) => ({ ...route, regex: new RegExp(route.pattern) }));

/** The service that answers `path` (the path only, no query). */
export function upstreamOf(path: string): Upstream {
  for (const route of compiled) if (route.regex.test(path)) return route.upstream;
  return fallbackUpstream;
}
