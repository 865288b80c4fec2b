// The HTTP edge of the OAuth endpoints (/token, /introspect, /revoke): form bodies as RFC 6749 wants
// them, and every error as `{error, error_description}` (RFC 6749 section 5.2), anything unexpected
// as `server_error` with nothing of its detail. Responses are never cached (RFC 6749 section 5.1).

import type { IncomingMessage } from 'node:http';
import { ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import type { Middleware } from 'koa';
import { type EdgeLog, type LoggedRequest, logUnexpected } from './koa.js';
import {
  InvalidRequest,
  OAuthError,
  oauthErrorBody,
  ServerError,
  TemporarilyUnavailable,
} from './oauth-errors.js';
import { newErrorId, OktaApiError, oktaErrorBody } from './okta-errors.js';

/** What an error of an OAuth endpoint becomes: its status, headers and `{error, error_description}`. */
export function oauthErrorReply(
  log: EdgeLog,
  request: LoggedRequest,
  caught: unknown,
): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  let error: OAuthError;
  // A spent budget answers as Okta does at every endpoint, its OAuth ones included.
  if (caught instanceof OktaApiError && caught.status === 429)
    return {
      status: 429,
      headers: { ...caught.headers },
      body: oktaErrorBody(caught, newErrorId()),
    };
  if (caught instanceof OAuthError) error = caught;
  else if (caught instanceof OktaApiError && caught.status < 500)
    error = new InvalidRequest(caught.errorSummary, caught.status);
  else if (caught instanceof ProjectionStoreUnavailableError)
    // Redis away, or the read models lost and being rebuilt: fail closed, and say it will pass.
    error = new TemporarilyUnavailable(
      'The server cannot read its state right now; try again shortly.',
    );
  else {
    const errorId = logUnexpected(log, request, caught);
    error = new ServerError(`An unexpected error occurred (${errorId})`);
  }
  return {
    status: error.status,
    headers: error.headers,
    body: oauthErrorBody(error),
  };
}

/** The OAuth endpoints' cache rule (RFC 6749 section 5.1). */
export const oauthCacheHeaders = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

export function oauthErrors(log: EdgeLog): Middleware {
  return async (ctx, next) => {
    for (const [name, value] of Object.entries(oauthCacheHeaders)) ctx.res.setHeader(name, value);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        throw new InvalidRequest('The requested path was not found', 404);
    } catch (caught) {
      const reply = oauthErrorReply(log, ctx, caught);
      ctx.status = reply.status;
      for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
      ctx.body = reply.body;
    }
  };
}

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `limitBytes` into single values. A
 * parameter sent twice is refused (RFC 6749 section 3.2), and so is an empty value, which RFC 6749
 * section 3.1 says to treat as absent: it is dropped.
 */
export async function readForm(
  ctx: { req: IncomingMessage },
  limitBytes = 16 * 1024,
): Promise<Map<string, string>> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.req.headers['content-type'] ?? ''))
    throw new InvalidRequest('The body must be application/x-www-form-urlencoded');
  const body = await readBodyText(ctx, limitBytes);
  const form = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name)) throw new InvalidRequest(`The parameter ${name} was sent more than once`);
    seen.add(name);
    if (value !== '') form.set(name, value);
  }
  return form;
}

/**
 * The request body as text; past `limitBytes` (declared or sent) an InvalidRequest with 413. Plain 'data' and
 * 'end' listeners: a form is one or two chunks, and an async iterator over the stream costs more
 * than reading them.
 */
export function readBodyText(ctx: { req: IncomingMessage }, limitBytes: number): Promise<string> {
  // Made only when needed: an Error captures a stack trace, and most bodies are fine.
  const tooLarge = () => new InvalidRequest(`The body must be at most ${limitBytes} bytes`, 413);
  if (Number(ctx.req.headers['content-length'] || '0') > limitBytes)
    return Promise.reject(tooLarge());
  const req: IncomingMessage = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        // Stop reading; the answer (413) closes the exchange.
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      );
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
