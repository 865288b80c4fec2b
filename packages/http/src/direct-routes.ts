// Routes answered on node:http directly, before koa builds a context: the token-validation endpoints
// (/userinfo, /introspect), which every resource server calls on every API request. koa, its router
// and their helpers cost about 13% of the CPU of such a request (`pnpm bench:validation`'s
// profile), the largest part Gatehouse controls. Each route has one implementation, a handler of a
// plain request; the service also registers it on its koa router (`koaRoute`), which answers what
// the direct path leaves to it (HEAD, a percent-encoded or absolute-form target, a host it cannot
// read simply), so both give the same answer. The app's edge (request id, cache headers, error
// bodies) is given once and applied on both.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type TenancyConfig, tenantIdPattern } from '@gatehouse/directory';
import { logRequest, processLogger, requestLevel, traceIdOf } from '@gatehouse/logging';
import {
  type GatehouseMetrics,
  processMetrics,
  requestMethodLabel,
  SeriesCache,
  secondsSince,
} from '@gatehouse/metrics';
import { activeTraceId, traceHttpRequest, tracingOn } from '@gatehouse/tracing';
import Koa, { type Context } from 'koa';
import { httpServerMetrics } from './http-metrics.js';
import { type LoggedRequest, newRequestId } from './koa.js';

export interface DirectRequest {
  req: IncomingMessage;
  method: string;
  /** The path after the tenant prefix (path mode), without the query. */
  path: string;
  tenant: string | undefined;
  /** The route's `:name` segments. */
  params: Record<string, string>;
  requestId: string;
}

export interface DirectReply {
  status?: number;
  /** An object is sent as JSON; a string as text (koa's types for each). */
  body: Record<string, unknown> | string;
  headers?: Record<string, string>;
}

export type DirectHandler = (request: DirectRequest) => Promise<DirectReply>;

export interface DirectEdge {
  tenancy: TenancyConfig;
  /** Headers of every answer (the endpoints' cache rules). */
  headers: Record<string, string>;
  /** Any error of a handler, as the reply the app's koa error middleware makes of it. */
  onError(caught: unknown, request: LoggedRequest): DirectReply;
  /** Where both paths time their requests (http_server_request_duration_seconds). Default the process's. */
  metrics?: GatehouseMetrics;
  /** The service answering (`token`, `userinfo`): whose server spans these are. */
  component?: string;
}

interface Route {
  methods: ReadonlySet<string>;
  segments: string[];
  handler: DirectHandler;
  /** The pattern, as the http_route label (the template, never the path). */
  pattern: string;
}

// What the direct path takes: an origin-form target of plain characters (no percent-encoding, so
// nothing to decode) and, in host mode, a plain host name. Anything else goes to koa.
const plainTarget = /^\/[A-Za-z0-9._~/-]*(?:\?.*)?$/;
const plainHost = /^([A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** A koa app that answers its direct routes itself and hands every other request to koa. */
export class DirectRoutesKoa extends Koa {
  private readonly routes: Route[] = [];
  private readonly series: SeriesCache<
    'http_route' | 'http_request_method' | 'http_response_status_code'
  >;

  constructor(private readonly edge: DirectEdge) {
    // Direct routes read the connection's own address and Host: no proxy headers.
    super({ proxy: false });
    const metrics = edge.metrics ?? processMetrics();
    this.series = new SeriesCache(metrics.httpServerDuration);
    // What koa answers is timed by its first middleware, what the direct path answers in answer().
    this.use(httpServerMetrics(metrics));
  }

  /**
   * Answers `methods` on `pattern` (literal segments and `:name` ones) directly; HEAD goes to koa.
   * Register the same handler on the koa router with `koaRoute` too.
   */
  direct(methods: readonly string[], pattern: string, handler: DirectHandler): void {
    this.routes.push({
      methods: new Set(methods),
      segments: pattern.split('/'),
      handler,
      pattern,
    });
  }

  override callback(): ReturnType<Koa['callback']> {
    const viaKoa = super.callback();
    return (req, res) => {
      // Direct routes are HTTP/1.1 (node:http); an HTTP/2 request goes to koa.
      const found = 'stream' in req ? undefined : this.match(req);
      if (!found) return viaKoa(req, res);
      // As koa's callback, the promise never rejects: a failure to answer at all drops the
      // connection rather than the process.
      const { route, request } = found;
      // Traced: in a server span named after the route's pattern (packages/tracing).
      const answered = tracingOn()
        ? traceHttpRequest(
            this.edge.component ?? 'http',
            request.method,
            req.headers,
            () => this.answer(res as ServerResponse, route, request),
            () => ({ route: route.pattern, status: res.statusCode, tenant: request.tenant }),
          )
        : this.answer(res as ServerResponse, route, request);
      return answered.catch(() => {
        (res as ServerResponse).destroy();
      });
    };
  }

  private match(req: IncomingMessage): { route: Route; request: DirectRequest } | undefined {
    const url = req.url ?? '';
    const method = req.method ?? '';
    if (this.routes.length === 0 || !plainTarget.test(url)) return undefined;
    const query = url.indexOf('?');
    let path = query < 0 ? url : url.slice(0, query);
    let tenant: string | undefined;
    if (this.edge.tenancy.mode === 'host') {
      const host = plainHost.exec(req.headers.host ?? '');
      if (!host) return undefined;
      const suffix = `.${this.edge.tenancy.domain}`;
      const name = host[1]!.toLowerCase();
      const candidate = name.endsWith(suffix) ? name.slice(0, -suffix.length) : '';
      if (tenantIdPattern.test(candidate)) tenant = candidate;
    } else {
      // resolveTenant's rule: a first segment of the tenant pattern, other than `api`.
      const prefix = /^\/([a-z0-9-]{2,40})\//.exec(path);
      if (prefix && prefix[1] !== 'api') {
        tenant = prefix[1];
        path = path.slice(prefix[1]!.length + 1);
      }
    }
    const segments = path.split('/');
    for (const route of this.routes) {
      if (!route.methods.has(method) || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      for (let i = 0; i < segments.length && matched; i++) {
        const want = route.segments[i]!;
        if (want.startsWith(':')) {
          if (segments[i] === '') matched = false;
          else params[want.slice(1)] = segments[i]!;
        } else if (want !== segments[i]) matched = false;
      }
      if (matched)
        return {
          route,
          request: { req, method, path, tenant, params, requestId: newRequestId(req.headers) },
        };
    }
    return undefined;
  }

  private async answer(res: ServerResponse, route: Route, request: DirectRequest): Promise<void> {
    const start = performance.now();
    const { method, path, requestId } = request;
    const failed = (caught: unknown) =>
      this.edge.onError(caught, { method, path, state: { requestId } });
    let reply: DirectReply;
    try {
      reply = await route.handler(request);
    } catch (caught) {
      reply = failed(caught);
    }
    try {
      this.write(res, request, reply);
    } catch (caught) {
      // A body that cannot be sent (not JSON-serialisable): the error's reply instead.
      this.write(res, request, failed(caught));
    }
    const status = res.statusCode;
    const seconds = secondsSince(start);
    // Methods of a direct route are the route's own (GET, POST): no _OTHER to fold.
    this.series.observe(
      `${route.pattern} ${method} ${status}`,
      {
        http_route: route.pattern,
        http_request_method: requestMethodLabel(method),
        http_response_status_code: status,
      },
      seconds,
    );
    const logger = processLogger();
    if (logger.isLevelEnabled(requestLevel(status)))
      logRequest(logger, {
        requestId,
        traceId: activeTraceId() ?? traceIdOf(request.req.headers.traceparent),
        tenant: request.tenant,
        method,
        route: route.pattern,
        status,
        durationMs: seconds * 1000,
      });
  }

  private write(res: ServerResponse, request: DirectRequest, reply: DirectReply): void {
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.statusCode = reply.status ?? 200;
    res.setHeader('X-Request-Id', request.requestId);
    for (const [name, value] of Object.entries(this.edge.headers)) res.setHeader(name, value);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.setHeader(
      'Content-Type',
      typeof reply.body === 'string'
        ? 'text/plain; charset=utf-8'
        : 'application/json; charset=utf-8',
    );
    res.setHeader('Content-Length', Buffer.byteLength(text));
    // A request body nobody read (an early refusal) node:http discards once the answer is sent.
    res.end(text);
  }
}

/**
 * The koa route of a direct handler: the same answer for what the direct path leaves to koa. The
 * app's koa middleware has set the request id and the tenant (resolveTenant) and maps errors.
 */
export function koaRoute(
  handler: DirectHandler,
): (ctx: Context & { params: Record<string, string> }) => Promise<void> {
  return async (ctx) => {
    const reply = await handler({
      req: ctx.req,
      method: ctx.method,
      path: ctx.path,
      tenant: ctx.state.tenant as string | undefined,
      params: ctx.params,
      requestId: ctx.state.requestId as string,
    });
    if (reply.status !== undefined) ctx.status = reply.status;
    for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
    ctx.body = reply.body;
  };
}
