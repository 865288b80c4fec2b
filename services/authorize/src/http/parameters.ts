// The parameters of a request to the browser-facing endpoints, from a query string or a form body.
import { readBodyText } from '@gatehouse/http';
import type { Context } from 'koa';
import { showError } from './responses.js';

export interface RawParameters {
  values: Map<string, string>;
  /** Parameters given more than once. */
  repeated: Set<string>;
}

/** Reads a query string or form body; empty values count as absent (RFC 6749 section 3.1). */
export function readParameters(encoded: string): RawParameters {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of new URLSearchParams(encoded)) {
    if (values.has(name) || repeated.has(name)) repeated.add(name);
    if (value !== '') values.set(name, value);
  }
  return { values, repeated };
}

/** The largest query or form body read. */
export const formLimitBytes = 16 * 1024;

/** A page's form (sign-in, consent, switch-user, logout), each field once; else an error page. */
export async function readForm(ctx: Context): Promise<RawParameters | undefined> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctx.get('content-type'))) {
    showError(ctx, 400, 'invalid_request', 'The body must be a form.');
    return undefined;
  }
  const form = readParameters(await readBodyText(ctx, formLimitBytes));
  if (form.repeated.size > 0) {
    showError(ctx, 400, 'invalid_request', 'A form field was sent more than once.');
    return undefined;
  }
  return form;
}
