// What a service's port answers besides its app: GET /metrics (Prometheus), and for a service with
// no HTTP app of its own (the projector) the probes. Internal only: the edge routes none of these.
import type { RequestListener } from 'node:http';
import { answerMetrics, type GatehouseMetrics } from '@gatehouse/metrics';

/** The app, with /metrics answered first (the exact path: a tenant's path never reaches it). */
export function withMetricsEndpoint(
  listener: RequestListener,
  metrics: GatehouseMetrics,
): RequestListener {
  return (req, res) => {
    if (req.url === '/metrics') answerMetrics(metrics, req, res);
    else listener(req, res);
  };
}

/**
 * GET /healthz (the process answers) and GET /readyz (`ready()`, 503 when not ready or when finding
 * out fails) as JSON, anything else a JSON 404: the HTTP side of a service without an app.
 */
export function probeListener(
  ready: () => Promise<{ ready: boolean; [detail: string]: unknown }>,
): RequestListener {
  const send = (
    res: Parameters<RequestListener>[1],
    status: number,
    body: Record<string, unknown>,
  ) => {
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };
  return (req, res) => {
    const path = req.url ?? '';
    if (path !== '/healthz' && path !== '/readyz') return send(res, 404, { error: 'not_found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' });
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    ready().then(
      ({ ready: isReady, ...detail }) =>
        send(res, isReady ? 200 : 503, { status: isReady ? 'ready' : 'not ready', ...detail }),
      () => send(res, 503, { status: 'not ready' }),
    );
  };
}
