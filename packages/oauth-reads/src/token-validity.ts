// The one check of implicit token invalidation (SPEC section 6), for every path that accepts a token:
// in a single round trip, the token's and its grant's revocation entries, the current status of its
// tenant, server, client and user, and the generations its binding digest was made of.
import { keys } from '@gatehouse/directory';
import {
  generationReads,
  grantKeys,
  invalidationDigest,
  type TokenBinding,
} from '@gatehouse/grants';
import { TemporarilyUnavailable } from '@gatehouse/http';
import { processMetrics } from '@gatehouse/metrics';
import type { ProjectionStore, ReadQuery } from '@gatehouse/projection-store';
import { caughtUpAtKey } from '@gatehouse/projections';

/**
 * How stale the read models may be before token checks refuse to answer (SPEC section 6: a stale
 * projection must never let an invalidated token through). `maxLagMs` defaults to 1000.
 */
export interface FreshnessGuard {
  now: () => number;
  maxLagMs: number;
}

/** The read models are further behind than the guard allows: the check fails closed. */
export class ProjectionsStaleError extends TemporarilyUnavailable {
  constructor(lagMs: number | undefined) {
    super('The server cannot check tokens right now; try again shortly.');
    this.lagMs = lagMs;
  }
  readonly lagMs: number | undefined;
}

/** How far behind the read models are (ms), or undefined when no projector has ever said. */
export function projectionLag(caughtUpAt: string | null, now: number): number | undefined {
  return caughtUpAt === null ? undefined : Math.max(0, now - Number(caughtUpAt));
}

/**
 * Throws ProjectionsStaleError unless the read models are within the guard's bound. `readAt` is
 * when the read that returned `caughtUpAt` was sent (default: now): what it returned is at least
 * that recent, so a stall of this process between sending it and handling its answer (a long GC,
 * a paused container) is not taken for read models falling behind.
 */
export function assertFresh(
  caughtUpAt: string | null,
  guard: FreshnessGuard,
  readAt = guard.now(),
): void {
  const lag = projectionLag(caughtUpAt, readAt);
  if (lag === undefined || lag > guard.maxLagMs) throw new ProjectionsStaleError(lag);
}

/** Whether the read models are within the bound now (for /readyz). */
export async function readModelsFresh(
  store: ProjectionStore,
  guard: FreshnessGuard,
): Promise<{ fresh: boolean; lagMs: number | undefined }> {
  const readAt = guard.now();
  const lagMs = projectionLag(await store.get(caughtUpAtKey), readAt);
  return { fresh: lagMs !== undefined && lagMs <= guard.maxLagMs, lagMs };
}

/** The digest of the binding's generations as they are now. */
export async function currentBindingDigest(
  store: ProjectionStore,
  binding: TokenBinding,
): Promise<string> {
  return invalidationDigest((await store.read(generationReads(binding))) as (string | null)[]);
}

export interface ValidityQuery {
  binding: TokenBinding;
  /** The digest the token (or code, or refresh family) was issued with. */
  bindingDigest: string;
  grantId: string;
  /** The token's own id, for its revocation entry; absent for codes and refresh tokens. */
  jti?: string;
}

/**
 * Whether nothing has invalidated the token since it was issued: not revoked (itself or its grant),
 * tenant, server, client and user still ACTIVE, and none of them changed in a way that invalidates
 * (their generations give the digest the token carries). Throws ProjectionsStaleError when the
 * read models are further behind than `guard` allows.
 */
export async function stillValid(
  store: ProjectionStore,
  query: ValidityQuery,
  guard: FreshnessGuard,
): Promise<boolean> {
  return (await checkToken(store, query, guard, [])).valid;
}

/**
 * stillValid, with `extra` reads in the same round trip (what the caller needs next, such as the
 * user's claims), whose results come back in order.
 */
export async function checkToken(
  store: ProjectionStore,
  query: ValidityQuery,
  guard: FreshnessGuard,
  extra: readonly ReadQuery[],
): Promise<{ valid: boolean; extra: unknown[] }> {
  try {
    const checked = await readTokenValidity(store, query, guard, extra);
    checkOutcomes.count(checked.valid ? 'valid' : 'invalid');
    return checked;
  } catch (error) {
    checkOutcomes.count(error instanceof ProjectionsStaleError ? 'stale' : 'error');
    throw error;
  }
}

/** gatehouse_token_checks_total's children, made once: a check counts without building labels. */
const checkOutcomes = (() => {
  const counter = processMetrics().tokenChecks;
  const children = {
    valid: counter.labels({ outcome: 'valid' }),
    invalid: counter.labels({ outcome: 'invalid' }),
    stale: counter.labels({ outcome: 'stale' }),
    error: counter.labels({ outcome: 'error' }),
  };
  return { count: (outcome: keyof typeof children) => children[outcome].inc() };
})();

async function readTokenValidity(
  store: ProjectionStore,
  query: ValidityQuery,
  guard: FreshnessGuard,
  extra: readonly ReadQuery[],
): Promise<{ valid: boolean; extra: unknown[] }> {
  const { tenant, serverId, clientId, userId } = query.binding;
  const statuses: ReadQuery[] = [
    { op: 'hget', key: keys.tenant(tenant), field: 'status' },
    { op: 'hget', key: keys.client(tenant, clientId), field: 'status' },
    ...(serverId === 'org'
      ? []
      : [
          { op: 'hget', key: keys.authorizationServer(tenant, serverId), field: 'status' } as const,
        ]),
    ...(userId === undefined
      ? []
      : [{ op: 'hget', key: keys.user(tenant, userId), field: 'status' } as const]),
  ];
  const generations = generationReads(query.binding);
  const revocations = query.jti ? 2 : 1;
  const readAt = guard.now();
  const results = (await store.read([
    { op: 'get', key: caughtUpAtKey },
    { op: 'get', key: grantKeys.revokedGrant(tenant, query.grantId) },
    ...(query.jti ? [{ op: 'get', key: grantKeys.revokedToken(tenant, query.jti) } as const] : []),
    ...statuses,
    ...generations,
    ...extra,
  ])) as unknown[];
  // Fresh enough first: from stale read models, even "revoked" cannot be told reliably.
  assertFresh((results[0] as string | null) ?? null, guard, readAt);
  const values = results.slice(1, 1 + revocations + statuses.length + generations.length) as (
    | string
    | null
  )[];
  const extraResults = results.slice(1 + values.length);
  const invalid = { valid: false, extra: extraResults };
  if (values.slice(0, revocations).some((value) => value !== null)) return invalid;
  const current = values.slice(revocations, revocations + statuses.length);
  if (current.some((status) => status !== 'ACTIVE')) return invalid;
  const digest = invalidationDigest(values.slice(revocations + statuses.length));
  return { valid: digest === query.bindingDigest, extra: extraResults };
}
