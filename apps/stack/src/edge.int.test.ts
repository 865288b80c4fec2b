// The edge as the stack and the containers run it (Debian's nginx with infra/nginx/routes.conf) in
// front of services that refuse connections: each path answers its own JSON error, with the request
// id that the access log carries; and the internal probes are not reachable through it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx } from './stack.js';

describe('the nginx edge with its services down', () => {
  let dir: string;
  let url: string;
  let refusing: number;
  let nginx: { stop(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-edge-'));
    // A port nothing listens on: every upstream refuses the connection.
    refusing = await freePort();
    const port = await freePort();
    const upstream = `127.0.0.1:${refusing}`;
    nginx = await startNginx({
      dir,
      port,
      host: '127.0.0.1',
      upstreams: {
        admin: upstream,
        keys: upstream,
        token: upstream,
        authorize: upstream,
        userinfo: upstream,
      },
      pidFile: join(dir, 'nginx.pid.reaper'),
    });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await nginx?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['POST', '/acme/oauth2/default/v1/token'],
    ['POST', '/acme/oauth2/v1/introspect'],
    ['GET', '/acme/oauth2/default/v1/userinfo'],
    ['GET', '/acme/oauth2/default/v1/keys'],
    ['GET', '/acme/.well-known/openid-configuration'],
    ['GET', '/acme/oauth2/v1/authorize'],
  ])('%s %s answers OAuth 503 temporarily_unavailable in JSON', async (method, path) => {
    const response = await fetch(`${url}${path}`, { method });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.any(String),
    });
  });

  it.each([
    ['GET', '/acme/api/v1/users'],
    ['POST', '/api/v1/authn'],
    ['GET', '/api/v1/tenants'],
    ['GET', '/acme/oauth2/v1/clients'],
    ['GET', '/acme/api/v1/authorizationServers/default/credentials/keys'],
    ['GET', '/acme/anywhere-else'],
  ])("%s %s answers Okta's E0000009 in JSON", async (method, path) => {
    const response = await fetch(`${url}${path}`, { method });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('retry-after')).toBe('1');
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(await response.json()).toEqual({
      errorCode: 'E0000009',
      errorSummary: expect.any(String),
      errorLink: 'E0000009',
      errorId: `oae${requestId}`,
      errorCauses: [],
    });
  });

  it.each(['/healthz', '/readyz', '/metrics'])(
    'does not pass %s through (the probes are internal)',
    async (path) => {
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { errorCode: string }).errorCode).toBe('E0000008');
    },
  );

  it('logs each request as one JSON line with its request id, the upstream tried and the timings', async () => {
    const response = await fetch(`${url}/acme/oauth2/v1/token?code=not-for-the-log`, {
      method: 'POST',
    });
    const requestId = response.headers.get('x-request-id');
    await response.arrayBuffer();
    let line: Record<string, string> | undefined;
    for (let i = 0; i < 50 && !line; i++) {
      const log = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
      const found = log.split('\n').find((entry) => entry.includes(`"${requestId}"`));
      if (found) line = JSON.parse(found) as Record<string, string>;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(line).toMatchObject({
      request_id: requestId,
      method: 'POST',
      path: '/acme/oauth2/v1/token',
      status: '503',
      upstream_addr: `127.0.0.1:${refusing}`,
      upstream_status: '502',
      request_time: expect.stringMatching(/^\d+\.\d{3}$/),
      upstream_connect_time: expect.any(String),
      upstream_response_time: expect.any(String),
    });
    expect(JSON.stringify(line)).not.toContain('not-for-the-log');
  });
});
