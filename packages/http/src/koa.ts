// Koa middleware of the management API edge: request ids, Okta error responses, JSON bodies.

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { logEntry, processLogger } from '@gatehouse/logging';
import { ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { OAuthError, oauthErrorBody } from './oauth-errors.js';
import { newErrorId, OktaApiError, oktaErrorBody } from './okta-errors.js';

export type EdgeLog = (entry: {
  level: 'error' | 'warn' | 'info';
  message: string;
  [key: string]: unknown;
}) => void;

/** The process logger as an EdgeLog: what the apps report when they are given no log of their own. */
export function processEdgeLog(): EdgeLog {
  return (entry) => logEntry(processLogger(), entry);
}

/**
 * Logs an error nobody expected, with its stack, under a fresh error id; the id is all the response
 * may show of it.
 */
/** What an error log says of its request (a koa Context is one). */
export interface LoggedRequest {
  method: string;
  path: string;
  state: { requestId?: unknown };
}

export function logUnexpected(log: EdgeLog, ctx: LoggedRequest, caught: unknown): string {
  const errorId = newErrorId();
  log({
    level: 'error',
    message: 'unexpected error',
    errorId,
    requestId: ctx.state.requestId,
    method: ctx.method,
    path: ctx.path,
    error:
      caught instanceof Error
        ? { name: caught.name, message: caught.message, stack: caught.stack }
        : String(caught),
  });
  return errorId;
}

/** What one readiness check found: `ok`, and when not, the `reason`; anything else is detail. */
export interface CheckResult {
  ok: boolean;
  reason?: string;
  [detail: string]: unknown;
}

/**
 * One thing /readyz looks at. A `required` check that is not ok makes the replica unready (a load
 * balancer stops sending it requests); one that is not required is reported only, for what draining
 * this replica cannot mend (a shared projector's lag: every replica reads the same read models).
 */
export interface ReadinessCheck {
  required: boolean;
  check(): Promise<CheckResult> | CheckResult;
}

export type ReadinessChecks = Record<string, ReadinessCheck>;

/** A check that answers neither way within this is counted as failed: a probe must not hang. */
const checkTimeoutMs = 1_500;

async function runCheck(check: ReadinessCheck): Promise<CheckResult & { required: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      Promise.resolve().then(() => check.check()),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ ok: false, reason: `no answer within ${checkTimeoutMs} ms` }),
          checkTimeoutMs,
        );
      }),
    ]);
    return { required: check.required, ...result };
  } catch (error) {
    return {
      required: check.required,
      ok: false,
      reason: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once: `ready` when every required one is ok. */
export async function readiness(
  checks: ReadinessChecks,
): Promise<{ status: 'ready' | 'not ready'; checks: Record<string, CheckResult> }> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name]!)));
  const ready = results.every((result) => result.ok || !result.required);
  return {
    status: ready ? 'ready' : 'not ready',
    checks: Object.fromEntries(names.map((name, i) => [name, results[i]!])),
  };
}

/**
 * The read models' lag, reported on /readyz and never required: when the projector is behind by
 * more than the bound, token checks fail closed request by request (SPEC section 6), and taking
 * every replica out of the load balancer at once would only turn that 503 into a refused connection.
 */
export function projectionLagCheck(
  lagMs: () => Promise<number | undefined>,
  maxLagMs: number,
): ReadinessCheck {
  return {
    required: false,
    async check() {
      const lag = await lagMs();
      if (lag === undefined)
        return { ok: false, lagMs: null, maxLagMs, reason: 'no projector has caught up yet' };
      if (lag > maxLagMs)
        return {
          ok: false,
          lagMs: lag,
          maxLagMs,
          reason: `the read models are ${lag} ms behind the topics (bound ${maxLagMs} ms): token checks fail closed`,
        };
      return { ok: true, lagMs: lag, maxLagMs };
    },
  };
}

/**
 * GET /healthz: the process is alive (no dependency is asked). GET /readyz: this replica can serve
 * now, with every check's finding in the body (`{"status":"not ready","checks":{...}}`), 503 when
 * a required check is not ok.
 */
export function probes(checks: ReadinessChecks): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || (ctx.path !== '/healthz' && ctx.path !== '/readyz')) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    const found = await readiness(checks);
    ctx.status = found.status === 'ready' ? 200 : 503;
    ctx.body = found;
  };
}

/** The caller's X-Request-Id when it is sane, else a new one. */
export function newRequestId(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Takes the caller's X-Request-Id when it is sane, else makes one; echoes it on the response. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    ctx.state.requestId = newRequestId(ctx.req.headers);
    // Straight on the response: koa's ctx.set builds arrays to normalise one header.
    ctx.res.setHeader('X-Request-Id', ctx.state.requestId as string);
    await next();
  };
}

/**
 * Writes every error as Okta's error body (an OAuthError as `{error, error_description}`). An OktaApiError is shown as it is; anything else is
 * logged with its stack and shown as E0000009 with nothing of its detail. A path nobody answered
 * becomes E0000008.
 */
export function oktaErrors(log: EdgeLog): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw OktaApiError.pathNotFound();
    } catch (caught) {
      if (caught instanceof OAuthError) {
        ctx.status = caught.status;
        for (const [name, value] of Object.entries(caught.headers)) ctx.set(name, value);
        ctx.body = oauthErrorBody(caught);
        return;
      }
      // Redis away, or the read models lost and being rebuilt: the change or read may be tried again.
      const known =
        caught instanceof ProjectionStoreUnavailableError
          ? OktaApiError.unavailable(
              'The service cannot read its state right now (its store is unavailable or being rebuilt). Try again shortly.',
            )
          : caught;
      const error = known instanceof OktaApiError ? known : OktaApiError.internal();
      const errorId =
        known instanceof OktaApiError ? newErrorId() : logUnexpected(log, ctx, caught);
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      ctx.body = oktaErrorBody(error, errorId);
    }
  };
}

/**
 * The request body, at most `limitBytes` (413 beyond, without reading past the limit). Read once: a
 * middleware that needed it first (idempotency keys) leaves it in ctx.state.rawBody.
 */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const kept = ctx.state.rawBody as Buffer | undefined;
  if (kept) {
    if (kept.length > limitBytes) throw OktaApiError.bodyTooLarge(limitBytes);
    return kept;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw OktaApiError.bodyTooLarge(limitBytes);
    chunks.push(chunk as Buffer);
  }
  ctx.state.rawBody = Buffer.concat(chunks);
  return ctx.state.rawBody as Buffer;
}

/**
 * Reads a JSON object body of at most `limitBytes`. Refuses other content types (415), larger bodies
 * (413, without reading past the limit), malformed JSON and non-objects (400).
 */
export async function readJsonObject(
  ctx: Context,
  limitBytes = 64 * 1024,
): Promise<Record<string, unknown>> {
  const type = ctx.get('content-type');
  if (!/^application\/json\s*(;|$)/i.test(type)) throw OktaApiError.unsupportedMediaType();
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limitBytes) throw OktaApiError.bodyTooLarge(limitBytes);
  const raw = await readRawBody(ctx, limitBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw OktaApiError.malformedBody();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw OktaApiError.malformedBody();
  return parsed as Record<string, unknown>;
}

/**
 * A method none of `router`'s routes for the path takes, thrown as `error(allowed)` with the
 * methods they do take (for the Allow header). Unlike @koa/router's own allowedMethods it asks
 * this router alone (that one reads `ctx.matched`, which every router of the app adds to, so a
 * later router answered for an earlier one's paths in plain text) and hands the error its list.
 */
export function methodNotAllowed(
  router: Router,
  error: (allowed: readonly string[]) => Error,
): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const matched = router.match(ctx.path, ctx.method);
    if (matched.route || matched.path.length === 0) return;
    const allowed = new Set(matched.path.flatMap((layer) => layer.methods));
    throw error([...allowed]);
  };
}
