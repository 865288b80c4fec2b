// The HTTP server histogram of every service (http_server_request_duration_seconds): route
// templates, never raw paths, so a tenant or an id in a path never becomes a label. The same
// observation writes the request's access line (the process logger's, at info).
import { logRequest, processLogger, requestLevel, tenantOf, traceIdOf } from '@gatehouse/logging';
import {
  type GatehouseMetrics,
  processMetrics,
  requestMethodLabel,
  SeriesCache,
  secondsSince,
  unmatchedRoute,
} from '@gatehouse/metrics';
import { activeTraceId } from '@gatehouse/tracing';
import type { Context, Middleware } from 'koa';

/** The paths a service answers itself without a router (probes): their own route. */
const probePaths = new Set(['/healthz', '/readyz']);

/** The route template @koa/router matched, a probe's path, or `unmatched`. */
export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (matched !== undefined) return String(matched);
  return probePaths.has(ctx.path) ? ctx.path : unmatchedRoute;
}

/**
 * Times every request through the app: put it first, so the status is the one sent (after the error
 * middleware has made its answer of any error).
 */
export function httpServerMetrics(metrics: GatehouseMetrics = processMetrics()): Middleware {
  const series = new SeriesCache(metrics.httpServerDuration);
  return async (ctx, next) => {
    const start = performance.now();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } finally {
      const route = routeOf(ctx);
      const method = requestMethodLabel(ctx.method);
      const seconds = secondsSince(start);
      series.observe(
        `${route} ${method} ${status}`,
        { http_route: route, http_request_method: method, http_response_status_code: status },
        seconds,
      );
      const logger = processLogger();
      if (logger.isLevelEnabled(requestLevel(status)))
        logRequest(logger, {
          requestId: ctx.state.requestId as string | undefined,
          traceId: activeTraceId() ?? traceIdOf(ctx.req.headers.traceparent),
          tenant: tenantOf(ctx.state),
          method: ctx.method,
          route,
          status,
          durationMs: seconds * 1000,
        });
    }
  };
}
