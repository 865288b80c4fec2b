// The management API's collections, as Okta pages them: `limit` (a default and a maximum per
// collection; more than the maximum is the maximum), an opaque `after`, and `Link` headers,
// `rel="self"` always and `rel="next"` when there may be more, absolute on the tenant's org URL.
// Bad criteria are Okta's 400 E0000031, a bad cursor or limit 400 E0000001: never a 500.
import {
  type CollectionQuery,
  InvalidCriteriaError,
  InvalidCursorError,
  orgBaseUrl,
  type TenancyConfig,
} from '@gatehouse/directory';
import { OktaApiError } from '@gatehouse/http';
import type { Context } from 'koa';

/** Okta's default and maximum page sizes. */
export const pageSizes = {
  users: { default: 200, max: 200 },
  groups: { default: 10_000, max: 10_000 },
  groupMembers: { default: 1000, max: 1000 },
  userGroups: { default: 10_000, max: 10_000 },
  apps: { default: 20, max: 200 },
  appUsers: { default: 50, max: 500 },
  appGroups: { default: 50, max: 500 },
} as const;

function single(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value))
    throw OktaApiError.validation([{ field: name, message: 'may be given once' }]);
  return value;
}

export function readLimit(ctx: Context, sizes: { default: number; max: number }): number {
  const raw = single(ctx, 'limit');
  if (raw === undefined || raw === '') return sizes.default;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1)
    throw OktaApiError.validation([{ field: 'limit', message: 'must be a positive integer' }]);
  return Math.min(Number(raw), sizes.max);
}

/** `q`, `filter`, `search`, `limit` and `after` as the collection reads them. */
export function readCollectionQuery(
  ctx: Context,
  sizes: { default: number; max: number },
): CollectionQuery {
  const query: CollectionQuery = { limit: readLimit(ctx, sizes) };
  for (const name of ['q', 'filter', 'search', 'after'] as const) {
    const value = single(ctx, name);
    if (value !== undefined) query[name] = value;
  }
  return query;
}

/** Runs a page read, answering bad criteria and cursors as Okta does. */
export async function pageOrBadRequest<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidCriteriaError)
      throw new OktaApiError(400, 'E0000031', 'Invalid search criteria.', [
        { errorSummary: error.message },
      ]);
    if (error instanceof InvalidCursorError)
      throw OktaApiError.validation([{ field: 'after', message: error.message }]);
    throw error;
  }
}

/** Sets the `Link` headers of a page: self as requested, next with the cursor and the limit. */
export function setPageLinks(
  ctx: Context,
  tenancy: TenancyConfig,
  tenant: string,
  limit: number,
  next: string | undefined,
): void {
  const base = `${orgBaseUrl(tenancy, tenant)}${ctx.path}`;
  const links = [`<${base}${ctx.querystring ? `?${ctx.querystring}` : ''}>; rel="self"`];
  if (next !== undefined) {
    const kept = Object.entries(ctx.query)
      .filter(([name]) => name !== 'after' && name !== 'limit')
      .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v]))
      .map(([name, value]) => `${encodeURIComponent(name!)}=${encodeURIComponent(value ?? '')}`);
    const query = [...kept, `after=${encodeURIComponent(next)}`, `limit=${limit}`].join('&');
    links.push(`<${base}?${query}>; rel="next"`);
  }
  ctx.set('Link', links);
}
