// The server span of an HTTP request, at each service's edge (koa and the direct routes): the
// caller's W3C traceparent/tracestate taken as its parent (a malformed one is ignored: a new trace),
// named after the route template (`POST /oauth2/{asId}/v1/token`), never after the raw path, which
// holds tenants and ids.
import type { IncomingHttpHeaders } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracerOf, tracingOn } from './tracing.js';

/** What the span learns once the request is answered. */
export interface AnsweredRequest {
  /** The route template matched (`/oauth2/:asId/v1/token`), if any. */
  route?: string | undefined;
  status: number;
  tenant?: string | undefined;
}

/** `/oauth2/:asId/v1/token` as OpenTelemetry writes templates: `/oauth2/{asId}/v1/token`. */
export function routeTemplate(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Runs `answer` inside the request's server span. Not tracing: runs it, nothing more. */
export async function traceHttpRequest<T>(
  component: string,
  method: string,
  headers: IncomingHttpHeaders,
  answer: () => Promise<T>,
  answered: () => AnsweredRequest,
): Promise<T> {
  if (!tracingOn()) return answer();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracerOf(component).startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), answer);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'error' });
    throw error;
  } finally {
    const { route, status, tenant } = answered();
    if (route !== undefined) {
      const template = routeTemplate(route);
      span.updateName(`${method} ${template}`);
      span.setAttribute('http.route', template);
    }
    span.setAttribute('http.response.status_code', status);
    if (tenant !== undefined) span.setAttribute('gatehouse.tenant', tenant);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

/**
 * Koa middleware (the first of an app): a server span per request, named after its route. Its name,
 * `gatehouseTracing`, lets `pnpm bench:tracing` take it out for its baseline.
 */
export function traceKoaRequests(component: string) {
  const gatehouseTracing = (
    ctx: {
      method: string;
      status: number;
      req: { headers: IncomingHttpHeaders };
      state: Record<string, unknown>;
    },
    next: () => Promise<unknown>,
  ): Promise<unknown> => {
    if (!tracingOn()) return next();
    return traceHttpRequest(component, ctx.method, ctx.req.headers, next, () => ({
      // Set by @koa/router on the context it matched.
      route: (ctx as { _matchedRoute?: unknown })._matchedRoute as string | undefined,
      status: ctx.status,
      tenant: ctx.state.tenant as string | undefined,
    }));
  };
  return gatehouseTracing;
}
