// One request line per koa request, written by the edge's first middleware (httpServerMetrics).
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, processLogger, setProcessLogger } from '@gatehouse/logging';
import { GatehouseMetrics } from '@gatehouse/metrics';
import Router from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { httpServerMetrics } from './http-metrics.js';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'token', destination }) };
}

describe('request lines on koa', () => {
  it('logs one line per request on koa: request id, trace id, tenant, route template, status, duration', async () => {
    const { lines, logger } = captured();
    const before = processLogger();
    setProcessLogger(logger);
    const app = new Koa();
    app.use(httpServerMetrics(new GatehouseMetrics()));
    app.use(async (ctx, next) => {
      ctx.state.requestId = 'req-1';
      ctx.state.tenant = { id: 'acme' };
      await next();
    });
    const router = new Router();
    router.post('/oauth2/:asId/v1/token', (ctx) => {
      ctx.body = { ok: true };
    });
    router.get('/boom', () => {
      throw new Error('unexpected');
    });
    app.use(router.routes());
    app.silent = true;
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await fetch(`${base}/oauth2/aus123/v1/token?client_secret=leak`, {
        method: 'POST',
        headers: { traceparent },
      });
      await fetch(`${base}/nowhere/00u1`);
      expect((await fetch(`${base}/boom`)).status).toBe(500);
    } finally {
      server.close();
      setProcessLogger(before);
    }
    expect(lines.map(({ time: _t, durationMs, ...line }) => [line, typeof durationMs])).toEqual([
      [
        {
          level: 'info',
          service: 'token',
          message: 'request',
          requestId: 'req-1',
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          tenant: 'acme',
          method: 'POST',
          route: '/oauth2/:asId/v1/token',
          status: 200,
        },
        'number',
      ],
      [
        {
          level: 'info',
          service: 'token',
          message: 'request',
          requestId: 'req-1',
          tenant: 'acme',
          method: 'GET',
          route: 'unmatched',
          status: 404,
        },
        'number',
      ],
      [
        {
          level: 'error',
          service: 'token',
          message: 'request',
          requestId: 'req-1',
          tenant: 'acme',
          method: 'GET',
          route: '/boom',
          status: 500,
        },
        'number',
      ],
    ]);
  });
});
