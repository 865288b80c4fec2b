import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatehouseMetrics } from '@gatehouse/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { withMetricsEndpoint } from './metrics-endpoint.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('withMetricsEndpoint', () => {
  it('answers /metrics itself and hands every other path, tenant paths included, to the app', async () => {
    const metrics = new GatehouseMetrics();
    metrics.tokensIssued.inc({ grant_type: 'refresh_token', server_kind: 'custom' });
    const base = await serve(
      withMetricsEndpoint((req, res) => res.end(`app saw ${req.url}`), metrics),
    );
    const scraped = await fetch(`${base}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await scraped.text()).toContain(
      'gatehouse_tokens_issued_total{grant_type="refresh_token",server_kind="custom"} 1',
    );
    expect(await (await fetch(`${base}/acme/metrics`)).text()).toBe('app saw /acme/metrics');
    expect(await (await fetch(`${base}/metrics?x=1`)).text()).toBe('app saw /metrics?x=1');
  });
});
