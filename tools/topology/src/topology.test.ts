import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nginxLogFormat, nginxRoutes, nginxUpstreams } from './nginx.js';
import { internalPathPattern, routes, upstreamOf } from './routes.js';

describe('route table', () => {
  const cases: [string, string][] = [
    ['/api/v1/tenants', 'admin'],
    ['/api/v1/tenants/acme/lifecycle/deactivate', 'admin'],
    ['/acme/api/v1/users', 'admin'],
    ['/acme/api/v1/users/00u1/lifecycle/deactivate', 'admin'],
    ['/acme/api/v1/apps/0oa1/lifecycle/deactivate', 'admin'],
    ['/acme/oauth2/v1/clients', 'admin'],
    ['/acme/oauth2/v1/clients/0oa1/lifecycle/newSecret', 'admin'],
    ['/acme/api/v1/authorizationServers/default/scopes', 'admin'],
    ['/acme/api/v1/authorizationServers/default/credentials/keys', 'keys'],
    ['/acme/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate', 'keys'],
    ['/acme/api/v1/authn', 'authorize'],
    ['/api/v1/authn', 'authorize'],
    ['/acme/api/v1/sessions/me', 'authorize'],
    ['/api/v1/sessions/me', 'authorize'],
    ['/acme/api/v1/sessions/102abc', 'admin'],
    ['/acme/oauth2/v1/keys', 'keys'],
    ['/acme/oauth2/default/v1/keys', 'keys'],
    ['/acme/.well-known/openid-configuration', 'keys'],
    ['/acme/oauth2/default/.well-known/oauth-authorization-server', 'keys'],
    ['/.well-known/openid-configuration', 'keys'],
    ['/acme/oauth2/v1/token', 'token'],
    ['/acme/oauth2/aus1/v1/introspect', 'token'],
    ['/oauth2/default/v1/revoke', 'token'],
    ['/acme/oauth2/v1/authorize', 'authorize'],
    ['/acme/oauth2/default/v1/logout', 'authorize'],
    ['/acme/login', 'authorize'],
    ['/acme/consent', 'authorize'],
    ['/acme/oauth2/v1/device/authorize', 'authorize'],
    ['/acme/oauth2/default/v1/device/authorize', 'authorize'],
    ['/oauth2/aus1/v1/device/authorize', 'authorize'],
    ['/acme/activate', 'authorize'],
    ['/activate', 'authorize'],
    ['/acme/oauth2/default/v1/userinfo', 'userinfo'],
    ['/oauth2/v1/userinfo', 'userinfo'],
    ['/acme/nowhere', 'admin'],
    ['/', 'admin'],
  ];
  it.each(cases)('%s goes to %s', (path, upstream) => {
    expect(upstreamOf(path)).toBe(upstream);
  });
});

describe('nginx edge', () => {
  it('infra/nginx/routes.conf is the route table (regenerate: pnpm --filter @gatehouse/topology nginx:routes)', () => {
    const committed = readFileSync(
      new URL('../../../infra/nginx/routes.conf', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(nginxRoutes());
  });

  it('infra/nginx/nginx.conf logs with the generated format (request id, upstream, timings)', () => {
    const conf = readFileSync(new URL('../../../infra/nginx/nginx.conf', import.meta.url), 'utf8');
    expect(conf).toContain(nginxLogFormat);
    expect(conf).toMatch(/access_log \S+ gatehouse;/);
  });

  it("answers an unavailable service with the path's own error shape: Okta's on the APIs, OAuth's elsewhere", () => {
    const conf = nginxRoutes();
    for (const route of routes) {
      const okta = /\/api\/v1\/|\/oauth2\/v1\/clients/.test(route.pattern);
      expect(route.errors, route.pattern).toBe(okta ? 'okta' : 'oauth');
      expect(conf).toContain(
        `location ~ "${route.pattern}" {\n  proxy_pass http://${route.upstream};\n  error_page 502 504 = @${route.errors}_unavailable;\n${route.retrySent ? '  proxy_next_upstream error timeout http_502 non_idempotent;\n' : ''}}`,
      );
    }
    expect(conf).toContain(`location ~ "${internalPathPattern}" {`);
  });

  it('answers the internal paths (probes, metrics) itself, before any route, with or without a tenant', () => {
    const conf = nginxRoutes();
    const internal = conf.indexOf(`location ~ "${internalPathPattern}"`);
    expect(internal).toBeGreaterThan(0);
    expect(internal).toBeLessThan(conf.indexOf('proxy_pass'));
    expect(conf.slice(internal, conf.indexOf('\n}', internal))).toContain('return 404');
    const regex = new RegExp(internalPathPattern);
    for (const path of ['/metrics', '/healthz', '/readyz', '/acme/metrics', '/acme/readyz'])
      expect(regex.test(path), path).toBe(true);
    for (const path of [
      '/metrics/oauth2/v1/token',
      '/acme/oauth2/v1/token',
      '/metricsx',
      '/a/metrics/x',
    ])
      expect(regex.test(path), path).toBe(false);
  });
});

describe('nginx upstream pools', () => {
  it('lists every replica of a service in its pool, each leaving it for 5 s after a failure', () => {
    expect(
      nginxUpstreams({ token: ['127.0.0.1:4001', '127.0.0.1:4002'], admin: '127.0.0.1:4003' }),
    ).toBe(
      [
        'upstream token {',
        '  server 127.0.0.1:4001 max_fails=1 fail_timeout=5s;',
        '  server 127.0.0.1:4002 max_fails=1 fail_timeout=5s;',
        '  keepalive 32;',
        '  keepalive_timeout 4s;',
        '}',
        'upstream admin {',
        '  server 127.0.0.1:4003 max_fails=1 fail_timeout=5s;',
        '  keepalive 32;',
        '  keepalive_timeout 4s;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses a pool with no server', () => {
    expect(() => nginxUpstreams({ token: [] })).toThrow('upstream token has no server');
  });

  it('passes a failed request to the next replica, never a POST already sent', () => {
    const conf = nginxRoutes();
    expect(conf).toContain('proxy_next_upstream error timeout http_502;');
    // A POST already sent goes to another replica only where doing it twice changes nothing.
    const resent = [...conf.matchAll(/location ~ "?([^ "]+)"? \{[^}]*non_idempotent/g)].map(
      (m) => m[1],
    );
    expect(resent).toHaveLength(1);
    expect(resent[0]).toContain('(introspect|revoke)');
    expect(conf).toContain('proxy_next_upstream_tries 2;');
  });
});
