// How a bench server process listens: as runService (packages/service-runtime) serves a service in
// production, its app with GET /metrics answered first (withMetricsEndpoint: this process's
// Prometheus series, Node's process metrics collected), but on 127.0.0.1 only, printing one line
// {"port":N} once it does, and on SIGTERM or SIGINT closing its connections, then `close` (what it
// started), then exiting.
import { createServer } from 'node:http';
import { processMetrics } from '@gatehouse/metrics';
import { withMetricsEndpoint } from '@gatehouse/service-runtime';
import type Koa from 'koa';

export function serveBench(app: Koa, port: number, close: () => Promise<void>): void {
  const metrics = processMetrics();
  metrics.collectProcessMetrics();
  const server = createServer(withMetricsEndpoint(app.callback(), metrics));
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
    );
  });
  const shutdown = () => {
    server.close(async () => {
      await close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
