import type { AddressInfo } from 'node:net';
import { GatehouseMetrics } from '@gatehouse/metrics';
import Router from '@koa/router';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectRoutesKoa, koaRoute } from './direct-routes.js';
import { resolveTenant } from './tenant-context.js';

const servers: { close(): void }[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** An app with one route answered directly and on koa, and one koa-only route, on its own metrics. */
async function serve(metrics: GatehouseMetrics): Promise<string> {
  const tenancy = { mode: 'path', publicUrl: new URL('http://localhost') } as const;
  const app = new DirectRoutesKoa({
    tenancy: tenancy as never,
    headers: {},
    onError: () => ({ status: 500, body: { error: 'server_error' } }),
    metrics,
  });
  const handler = async () => ({ body: { ok: true } });
  app.direct(['GET'], '/things/:id/v1', handler);
  app.use(resolveTenant(tenancy as never));
  const router = new Router();
  router.get('/things/:id/v1', koaRoute(handler));
  router.post('/other/:id', (ctx) => {
    ctx.status = 201;
    ctx.body = {};
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const count = async (metrics: GatehouseMetrics, labels: Record<string, string>) =>
  (await metrics.httpServerDuration.get()).values
    .filter(
      (v) =>
        v.metricName === 'http_server_request_duration_seconds_count' &&
        Object.entries(labels).every(
          ([k, value]) => String((v.labels as Record<string, unknown>)[k]) === value,
        ),
    )
    .reduce((sum, v) => sum + v.value, 0);

describe('http_server_request_duration_seconds', () => {
  it('labels the direct path and koa by the route template, never the tenant or the id', async () => {
    const metrics = new GatehouseMetrics();
    const base = await serve(metrics);
    expect((await fetch(`${base}/acme/things/abc123/v1`)).status).toBe(200); // direct
    expect((await fetch(`${base}/acme/things/abc123/v1`, { method: 'HEAD' })).status).toBe(200); // koa
    expect((await fetch(`${base}/acme/other/xyz`, { method: 'POST' })).status).toBe(201);
    expect((await fetch(`${base}/acme/no/such/path`)).status).toBe(404);
    const route = '/things/:id/v1';
    expect(await count(metrics, { http_route: route, http_request_method: 'GET' })).toBe(1);
    expect(await count(metrics, { http_route: route, http_request_method: 'HEAD' })).toBe(1);
    expect(
      await count(metrics, { http_route: '/other/:id', http_response_status_code: '201' }),
    ).toBe(1);
    expect(
      await count(metrics, { http_route: 'unmatched', http_response_status_code: '404' }),
    ).toBe(1);
    const exposition = await metrics.exposition();
    expect(exposition).not.toContain('acme');
    expect(exposition).not.toContain('abc123');
  });
});
