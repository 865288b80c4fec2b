import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TenancyConfig } from '@gatehouse/directory';
import { createLogger, processLogger, setProcessLogger } from '@gatehouse/logging';
import { sendRaw } from '@gatehouse/testkit';
import Router from '@koa/router';
import { afterAll, describe, expect, it } from 'vitest';
import { type DirectRequest, DirectRoutesKoa, koaRoute } from './direct-routes.js';
import { requestId } from './koa.js';
import { OAuthError } from './oauth-errors.js';
import { resolveTenant } from './tenant-context.js';

const servers: { close(): void }[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/**
 * An app with one route, answered directly and on koa alike: the answer says which path served it
 * and what the handler was given; `fail` in the query makes the handler throw.
 */
async function serve(tenancy: TenancyConfig): Promise<number> {
  const handler = async (request: DirectRequest) => {
    if (request.req.url?.includes('fail')) throw new OAuthError(400, 'invalid_request', 'failed');
    if (request.req.url?.includes('bigint')) return { body: { unsendable: 1n } };
    return {
      body: {
        tenant: request.tenant ?? null,
        path: request.path,
        id: request.params.id ?? null,
        requestId: request.requestId,
      },
    };
  };
  const app = new DirectRoutesKoa({
    tenancy,
    headers: { 'Cache-Control': 'no-store' },
    onError: (caught) =>
      caught instanceof OAuthError
        ? { status: caught.status, body: { error: caught.error } }
        : { status: 500, body: { error: 'server_error' } },
  });
  app.direct(['GET'], '/things/:id/v1', handler);
  app.use(requestId());
  app.use(resolveTenant(tenancy));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Served-By', 'koa');
    try {
      await next();
    } catch (caught) {
      ctx.status = (caught as OAuthError).status;
      ctx.body = { error: (caught as OAuthError).error };
    }
  });
  const router = new Router();
  router.get('/things/:id/v1', koaRoute(handler));
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

const send = async (
  port: number,
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
) => {
  const answer = await sendRaw(`http://127.0.0.1:${port}`, target, { method, headers });
  const json = answer.text && String(answer.headers['content-type']).includes('json');
  return { ...answer, body: json ? (JSON.parse(answer.text) as unknown) : answer.text };
};

const pathMode: TenancyConfig = { mode: 'path', publicUrl: new URL('http://localhost:9000') };

describe('DirectRoutesKoa', () => {
  it('answers a plain target directly, with the tenant, params, request id and edge headers', async () => {
    const port = await serve(pathMode);
    const answer = await send(port, '/acme/things/x1/v1?q=1', { 'x-request-id': 'req-1' });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-served-by']).toBeUndefined();
    expect(answer.headers['x-request-id']).toBe('req-1');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body).toEqual({
      tenant: 'acme',
      path: '/things/x1/v1',
      id: 'x1',
      requestId: 'req-1',
    });
    // A made-up request id is replaced, as koa's requestId() does.
    const made = await send(port, '/acme/things/x1/v1', { 'x-request-id': 'bad id!' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // Errors go through the edge's onError, and so does a body that cannot be sent.
    const unsendable = await send(port, '/acme/things/x1/v1?bigint');
    expect({ status: unsendable.status, body: unsendable.body }).toEqual({
      status: 500,
      body: { error: 'server_error' },
    });
    const failed = await send(port, '/acme/things/x1/v1?fail');
    expect({ status: failed.status, body: failed.body }).toEqual({
      status: 400,
      body: { error: 'invalid_request' },
    });
  });

  it('leaves to koa what it does not take: other methods, encoded or absolute-form targets, other paths', async () => {
    const port = await serve(pathMode);
    for (const target of [
      '/acme/things/x%31/v1',
      'http://localhost/acme/things/x1/v1',
      '/acme/things/x1/v1/extra',
      '/acme/things//v1',
    ]) {
      const answer = await send(port, target);
      expect(answer.headers['x-served-by'], target).toBe('koa');
    }
    // The same answer on koa (koa-router decodes the encoded segment).
    const viaKoa = await send(port, 'http://localhost/acme/things/x1/v1', { 'x-request-id': 'r' });
    const direct = await send(port, '/acme/things/x1/v1', { 'x-request-id': 'r' });
    expect(viaKoa.body).toEqual(direct.body);
    expect((await send(port, '/acme/things/x%31/v1')).body).toMatchObject({ id: 'x1' });
    const head = await send(port, '/acme/things/x1/v1', {}, 'HEAD');
    expect({ status: head.status, servedBy: head.headers['x-served-by'] }).toEqual({
      status: 200,
      servedBy: 'koa',
    });
  });

  it('host mode: the tenant from a plain Host; anything else goes to koa', async () => {
    const port = await serve({
      mode: 'host',
      publicUrl: new URL('https://id.example.com'),
      domain: 'id.example.com',
    });
    const direct = await send(port, '/things/x1/v1', { host: 'Acme.ID.example.com:8443' });
    expect(direct.headers['x-served-by']).toBeUndefined();
    expect(direct.body).toMatchObject({ tenant: 'acme', path: '/things/x1/v1' });
    const none = await send(port, '/things/x1/v1', { host: 'id.example.com' });
    expect(none.body).toMatchObject({ tenant: null });
    const odd = await send(port, '/things/x1/v1', { host: '[::1]:8443' });
    expect(odd.headers['x-served-by']).toBe('koa');
  });
});

describe('request lines', () => {
  it('writes one access line per request on the direct path and on koa alike, by route template', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const before = processLogger();
    setProcessLogger(createLogger({ service: 'token', destination }));
    try {
      const port = await serve(pathMode);
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await send(port, '/acme/things/x1/v1?token=secret-in-query', {
        'x-request-id': 'direct-1',
        traceparent,
      });
      // Percent-encoding is koa's.
      await send(port, '/acme/things/x%31/v1', { 'x-request-id': 'koa-1' });
      await send(port, '/acme/things/x1/v1?fail', { 'x-request-id': 'direct-2' });
    } finally {
      setProcessLogger(before);
    }
    const shown = lines.map(({ time, durationMs, ...line }) => {
      expect(typeof time).toBe('string');
      expect(typeof durationMs).toBe('number');
      return line;
    });
    expect(shown).toEqual([
      {
        level: 'info',
        service: 'token',
        message: 'request',
        requestId: 'direct-1',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        tenant: 'acme',
        method: 'GET',
        route: '/things/:id/v1',
        status: 200,
      },
      {
        level: 'info',
        service: 'token',
        message: 'request',
        requestId: 'koa-1',
        tenant: 'acme',
        method: 'GET',
        route: '/things/:id/v1',
        status: 200,
      },
      {
        level: 'info',
        service: 'token',
        message: 'request',
        requestId: 'direct-2',
        tenant: 'acme',
        method: 'GET',
        route: '/things/:id/v1',
        status: 400,
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-in-query');
  });
});
