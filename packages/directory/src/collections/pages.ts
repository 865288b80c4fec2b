// One page of a collection, read through the ordered indexes: the criteria are planned as
// branches, each a range of one index and a test on the items it yields; a page seeks into the
// range where the cursor points and reads about `limit` entries, so its cost does not grow with
// the tenant. Order: by the index that serves the query (its value, then id); with no criteria,
// by id. An `or` of indexed criteria is served branch by branch, an item skipped in a branch when
// an earlier branch yields it. Criteria no index serves scan the id index, at most `scanBudget`
// entries a page: such a page may hold fewer than `limit` items and still link to a next one.
import { type IndexBound, indexEntry, type ProjectionStore } from '@gatehouse/projection-store';
import { type Attributes, type Criteria, meets } from './criteria.js';
import { type AttributeKind, indexValue } from './indexes.js';

/** A range of one ordered index. */
export interface IndexSource {
  key: string;
  min: IndexBound | null;
  max: IndexBound | null;
}

export interface Branch {
  source: IndexSource;
  /** Whether this branch yields an item (its criteria, and none of an earlier branch's). */
  test?: (attributes: Attributes) => boolean;
}

/** Where a page starts: after member `m` of branch `b`. Opaque to clients. */
export interface Cursor {
  b: number;
  m: string;
}

/** An `after` that is not one of ours: Okta's 400. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(after: string, branches: number): Cursor {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(after)) throw new Error('not base64url');
    const cursor = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as Cursor;
    if (
      !Number.isInteger(cursor.b) ||
      cursor.b < 0 ||
      cursor.b >= branches ||
      typeof cursor.m !== 'string'
    )
      throw new Error('not a cursor');
    return cursor;
  } catch {
    throw new InvalidCursorError('after is not a cursor this collection gave');
  }
}

/** The highest code point: a prefix's range ends below prefix + this. */
const top = '\u{10ffff}';

/** The index range holding exactly the values a comparison with an indexed attribute admits. */
function rangeOf(
  key: string,
  kind: AttributeKind,
  criteria: Criteria & { kind: 'compare' | 'present' },
): IndexSource | undefined {
  if (criteria.kind === 'present') return { key, min: null, max: null };
  if (typeof criteria.value !== 'string') return undefined;
  const v = indexValue(kind, criteria.value);
  const below = { member: `${v}\u0000`, inclusive: false }; // below every entry of value v
  const above = { member: `${v}\u0000${top}`, inclusive: false }; // above every entry of value v
  switch (criteria.op) {
    case 'eq':
      return { key, min: { ...below, inclusive: true }, max: above };
    case 'sw':
      return {
        key,
        min: { member: v, inclusive: true },
        max: { member: `${v}${top}`, inclusive: false },
      };
    case 'gt':
      return { key, min: above, max: null };
    case 'ge':
      return { key, min: { ...below, inclusive: true }, max: null };
    case 'lt':
      return { key, min: null, max: below };
    case 'le':
      return { key, min: null, max: above };
    default:
      return undefined;
  }
}

const preference = { eq: 0, sw: 1, ge: 2, gt: 2, le: 2, lt: 2 } as Record<string, number>;

export interface Indexes {
  /** The index key of an indexed attribute, undefined for others. */
  keyOf(attribute: string): string | undefined;
  kindOf(attribute: string): AttributeKind;
  /** The index of every item by id: the order of an unfiltered list, and what a scan reads. */
  byId: string;
}

/** The branches that serve `criteria` (all items, by id, when none). */
export function plan(criteria: Criteria | undefined, indexes: Indexes): Branch[] {
  const everything: IndexSource = { key: indexes.byId, min: null, max: null };
  if (!criteria) return [{ source: everything }];
  const test = (c: Criteria) => (attributes: Attributes) => meets(c, attributes, indexes.kindOf);
  const alternatives = flatten(criteria, 'or');
  const sources = alternatives.map((alternative) => {
    // The most selective indexed comparison among the alternative's conjuncts.
    let best: { source: IndexSource; rank: number } | undefined;
    for (const c of flatten(alternative, 'and')) {
      if (c.kind !== 'compare' && c.kind !== 'present') continue;
      const key = indexes.keyOf(c.attribute);
      const source = key && rangeOf(key, indexes.kindOf(c.attribute), c);
      const rank = c.kind === 'present' ? 3 : (preference[c.op] ?? 9);
      if (source && (!best || rank < best.rank)) best = { source, rank };
    }
    return best?.source;
  });
  if (sources.some((source) => !source)) return [{ source: everything, test: test(criteria) }];
  return alternatives.map((alternative, i) => {
    const mine = test(alternative);
    const earlier = alternatives.slice(0, i).map(test);
    return {
      source: sources[i]!,
      test: (attributes) => mine(attributes) && !earlier.some((t) => t(attributes)),
    };
  });
}

function flatten(criteria: Criteria, kind: 'and' | 'or'): Criteria[] {
  return criteria.kind === kind
    ? [...flatten(criteria.left, kind), ...flatten(criteria.right, kind)]
    : [criteria];
}

export interface PageRequest<T> {
  branches: readonly Branch[];
  limit: number;
  after?: string;
  /** The items of these ids, in order (undefined for one gone meanwhile). */
  load(ids: readonly string[]): Promise<(T | undefined)[]>;
  /** What the branches' tests read of an item (needed when a branch has a test). */
  attributesOf?(item: T): Attributes;
  /** Most index entries one page examines. Default: 4 × (limit + 1), at least 2000. */
  scanBudget?: number;
}

export interface Page<T> {
  items: T[];
  /** The next page's `after`, when there may be more. */
  next?: string;
}

export async function readPage<T>(
  store: ProjectionStore,
  request: PageRequest<T>,
): Promise<Page<T>> {
  const { branches, limit } = request;
  const budget = request.scanBudget ?? Math.max(4 * (limit + 1), 2000);
  const start =
    request.after === undefined ? undefined : decodeCursor(request.after, branches.length);
  const items: T[] = [];
  let last: Cursor | undefined; // where the last item taken is
  let examined = 0;
  let b = start?.b ?? 0;
  let after = start?.m;
  // Each read asks for what the page still needs, scaled by the share of entries the branch's test
  // took so far (twice the last read while it took none): a page of a large tenant reads about as
  // many entries as the same page of a small one, and exactly what it needs when the index range
  // is exact.
  let previous = 0;
  let seen = 0; // entries of this branch examined, and taken
  let taken = 0;
  while (b < branches.length) {
    const { source, test } = branches[b]!;
    const needed = limit + 1 - items.length;
    const wanted =
      seen === 0 ? needed : taken === 0 ? 2 * previous : Math.ceil((needed * seen * 1.25) / taken);
    const size = Math.max(1, Math.min(wanted, budget - examined));
    previous = size;
    const min = after === undefined ? source.min : { member: after, inclusive: false };
    const [members] = await store.read([
      { op: 'indexRange', key: source.key, min, max: source.max, limit: size },
    ]);
    const loaded = await request.load(members.map((member) => indexEntry(member).id));
    for (let i = 0; i < members.length; i++) {
      const item = loaded[i];
      after = members[i]!;
      examined++;
      seen++;
      if (item !== undefined && (!test || test(request.attributesOf!(item)))) {
        // One more than a page: there is a next page, starting after the last item taken.
        if (items.length === limit) return { items, next: encodeCursor(last!) };
        taken++;
        items.push(item);
        last = { b, m: after };
      }
      if (examined >= budget) {
        const more = i < members.length - 1 || members.length === size || b < branches.length - 1;
        return { items, ...(more ? { next: encodeCursor({ b, m: after }) } : {}) };
      }
    }
    if (members.length < size) {
      b++;
      after = undefined;
      previous = seen = taken = 0;
    }
  }
  return { items };
}
