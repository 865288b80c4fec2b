// /healthz and /readyz for a process that serves no HTTP of its own (the projector): the same
// answers as a service's koa probes, on a port of their own, and nothing else (404).
import type { RequestListener } from 'node:http';
import { type ReadinessChecks, readiness } from '@gatehouse/http';

export function probeListener(checks: ReadinessChecks): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz'))
      return reply(404, { status: 'not found' });
    if (path === '/healthz') return reply(200, { status: 'ok' });
    readiness(checks).then(
      (found) => reply(found.status === 'ready' ? 200 : 503, found),
      (error: unknown) => reply(503, { status: 'not ready', reason: String(error) }),
    );
  };
}
