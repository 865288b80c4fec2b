// What a service's port answers besides its app: GET /metrics (Prometheus). Internal only: the
// edge routes none of it (the projector's probes: probe-listener.ts).
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
