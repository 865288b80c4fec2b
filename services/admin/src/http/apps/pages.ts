// Okta's cursor paging over a sorted list of ids: `limit`, an opaque `after`, and Link headers
// rel="self" and, when there may be more, rel="next". A page reads the ids' records in batches and
// stops when it is full or after `scanCap` records, so that a filter matching few records costs a
// bounded amount per page (a short page then still carries rel="next").
import { OktaApiError } from '@gatehouse/http';
import type { Context } from 'koa';

export interface PageRequest {
  limit: number;
  /** The id the previous page ended with. */
  after?: string;
}

/** Most records one page reads, matching or not. */
const scanCap = 1000;

export function readPageRequest(
  ctx: Context,
  limits: { default: number; max: number },
): PageRequest {
  const rawLimit = ctx.query.limit;
  let limit = limits.default;
  if (rawLimit !== undefined) {
    const parsed =
      typeof rawLimit === 'string' && /^-?\d{1,9}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (Number.isNaN(parsed))
      throw OktaApiError.validation([{ field: 'limit', message: "'limit' must be an integer" }]);
    // Okta: -1 (or more than the maximum) is the maximum.
    limit = parsed < 0 || parsed > limits.max ? limits.max : parsed === 0 ? limits.default : parsed;
  }
  const rawAfter = ctx.query.after;
  if (rawAfter === undefined || rawAfter === '') return { limit };
  const after =
    typeof rawAfter === 'string' ? Buffer.from(rawAfter, 'base64url').toString('utf8') : '';
  if (!/^[0-9A-Za-z]{1,64}$/.test(after))
    throw OktaApiError.validation([{ field: 'after', message: "'after' is not a valid cursor" }]);
  return { limit, after };
}

/**
 * A page of `ids` (sorted) after the cursor: `read` gives, per id of a batch, its item or undefined
 * (gone, or not matching). `next`: the cursor of the next page, when there may be one.
 */
export async function pageOf<T>(
  ids: readonly string[],
  page: PageRequest,
  read: (batch: string[]) => Promise<(T | undefined)[]>,
): Promise<{ items: T[]; next?: string }> {
  let position = page.after === undefined ? 0 : firstAfter(ids, page.after);
  const items: T[] = [];
  let scanned = 0;
  // What a full page needs first; then, as records fail to match, batches twice as large.
  let size = page.limit + 1;
  while (position < ids.length && items.length < page.limit && scanned < scanCap) {
    const batch = ids.slice(position, position + Math.min(size, 200, scanCap - scanned));
    size *= 2;
    const found = await read(batch);
    for (let i = 0; i < batch.length && items.length < page.limit; i++) {
      position++;
      scanned++;
      const item = found[i];
      if (item !== undefined) items.push(item);
    }
  }
  return position < ids.length && position > 0
    ? { items, next: cursorOf(ids[position - 1]!) }
    : { items };
}

/** Link headers as Okta sends them: self always, next when there may be more. */
export function setPageLinks(ctx: Context, orgBase: string, next: string | undefined): void {
  const url = new URL(`${orgBase}${ctx.path}`);
  for (const [name, value] of Object.entries(ctx.query))
    if (typeof value === 'string') url.searchParams.set(name, value);
  const links = [`<${url.href}>; rel="self"`];
  if (next !== undefined) {
    url.searchParams.set('after', next);
    links.push(`<${url.href}>; rel="next"`);
  }
  ctx.set('Link', links);
}

function cursorOf(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The position of the first id greater than `after`. */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ids[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}
