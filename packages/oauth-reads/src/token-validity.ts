// The one check of implicit token invalidation (SPEC section 6), for every path that accepts a token:
// in a single round trip, the token's and its grant's revocation entries, the current status of its
// tenant, server, client and user, and the generations its binding digest was made of. A token
// made by exchanging another (RFC 8693) is checked with the token it was exchanged for, in the same
// round trip: it dies with it.
import { keys } from '@gatehouse/directory';
import {
  bindingDigestOfTokenId,
  generationReads,
  grantIdOfTokenId,
  grantKeys,
  invalidationDigest,
  type SubjectTokenLink,
  subjectTokenClaim,
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
  /**
   * The token this one was issued in exchange for (RFC 8693 token exchange): valid only while that
   * one is too (SPEC section 6: "the exchanged token dies with its subject token").
   */
  subjectToken?: Omit<ValidityQuery, 'subjectToken'>;
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
  const checks = [query, ...(query.subjectToken ? [query.subjectToken] : [])].map(validityReads);
  const readAt = guard.now();
  const results = (await store.read([
    { op: 'get', key: caughtUpAtKey },
    ...checks.flatMap((check) => check.reads),
    ...extra,
  ])) as unknown[];
  // Fresh enough first: from stale read models, even "revoked" cannot be told reliably.
  assertFresh((results[0] as string | null) ?? null, guard, readAt);
  let at = 1;
  let valid = true;
  for (const check of checks) {
    valid &&= check.valid(results.slice(at, at + check.reads.length) as (string | null)[]);
    at += check.reads.length;
  }
  return { valid, extra: results.slice(at) };
}

/** What one token's check reads, and whether what was read says it is still valid. */
function validityReads(query: Omit<ValidityQuery, 'subjectToken'>): {
  reads: ReadQuery[];
  valid: (values: (string | null)[]) => boolean;
} {
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
  const revocations: ReadQuery[] = [
    { op: 'get', key: grantKeys.revokedGrant(tenant, query.grantId) },
    ...(query.jti ? [{ op: 'get', key: grantKeys.revokedToken(tenant, query.jti) } as const] : []),
  ];
  return {
    reads: [...revocations, ...statuses, ...generationReads(query.binding)],
    valid: (values) => {
      if (values.slice(0, revocations.length).some((value) => value !== null)) return false;
      const current = values.slice(revocations.length, revocations.length + statuses.length);
      if (current.some((status) => status !== 'ACTIVE')) return false;
      return (
        invalidationDigest(values.slice(revocations.length + statuses.length)) ===
        query.bindingDigest
      );
    },
  };
}

/**
 * What a token's check also checks: the subject token named by its `sbj` claim, if it has one.
 * `undefined` when it has none; `false` when the claim cannot name a token (never in a token this
 * server signed, but a check must not pass on it).
 */
export function subjectTokenQuery(
  tenant: string,
  userId: string | undefined,
  claims: Record<string, unknown>,
): Omit<ValidityQuery, 'subjectToken'> | undefined | false {
  const link = claims[subjectTokenClaim];
  if (link === undefined) return undefined;
  if (typeof link !== 'object' || link === null) return false;
  const { jti, server, cid } = link as Partial<Record<keyof SubjectTokenLink, unknown>>;
  if (typeof jti !== 'string' || typeof server !== 'string' || typeof cid !== 'string')
    return false;
  const grantId = grantIdOfTokenId(jti);
  const bindingDigest = bindingDigestOfTokenId(jti);
  if (!grantId || !bindingDigest) return false;
  return {
    binding: { tenant, serverId: server, clientId: cid, ...(userId ? { userId } : {}) },
    bindingDigest,
    grantId,
    jti,
  };
}
