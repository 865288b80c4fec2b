// Idempotency-Key (issue 15; draft-ietf-httpapi-idempotency-key-header): a client that sends one
// with a change (POST, PUT, PATCH, DELETE) and sends the same request again with the same key gets
// the first request's outcome, not a second change. Okta's SDKs send none; for them a retried create
// meets Okta's usual "already exists".
//
// The record of a key lives in the store (shared by every replica, 24 h), under the credential, the
// method, the URL and the key; it remembers a fingerprint of the request, so the key cannot be used
// for another one (422). While the first request runs, a second one gets 409. What is remembered:
// - a final answer (2xx, 4xx without Retry-After): replayed as it was, with Idempotent-Replayed;
// - nothing, when the answer said nothing was changed and to try again (a 503 before anything was
//   appended, a 409 after every attempt lost its race): the retry runs as a new request;
// - "in doubt", when the 503 said the change may still apply: the retry first finds out. Once the
//   projector has passed everything in the log, the attempt was applied (409: look the object up,
//   it is there), refused or never appended (the retry runs as a new request); until then, 503.
import { createHash } from 'node:crypto';
import type { EventBus, EventPosition } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import { OktaApiError, readRawBody } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { commandOutcomeKey, waitForProjections } from '@gatehouse/projections';
import type { Context, Middleware } from 'koa';
import type { CommandFailure } from './domain-errors.js';

export interface IdempotencyOptions {
  store: ProjectionStore;
  bus: EventBus;
  /** Longest wait for the projector when a retry finds out what became of an attempt in doubt. */
  readYourWritesMs: number;
}

type IdempotencyRecord =
  | { state: 'running'; fingerprint: string }
  | {
      state: 'done';
      fingerprint: string;
      status: number;
      body: string | null;
      location?: string;
    }
  | { state: 'in-doubt'; fingerprint: string; command?: { tenant: string; commandId: string } };

const changes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** How long a record of a final answer is kept. */
const keptMs = 24 * 3600_000;
/** How long a request may run before its key is free again (a replica that died mid-request). */
const runningMs = 60_000;
/**
 * How long an attempt in doubt can be found out: command verdicts are kept 10 minutes. After that
 * the key is free again, and a retry runs as a new request (the write model still refuses a second
 * user with the same login, a second client with the same id).
 */
const inDoubtMs = 9 * 60_000;
/** The largest body a keyed request may have (each route then applies its own, smaller, limit). */
const maxBodyBytes = 1024 * 1024;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('base64url');

/** The key from the header: a structured-field string ("...") or a bare token of visible ASCII. */
function parseKey(header: string): string | undefined {
  const value = /^"(.*)"$/.exec(header)?.[1] ?? header;
  return /^[\x21-\x7e]{1,255}$/.test(value) ? value : undefined;
}

export function idempotency(options: IdempotencyOptions): Middleware {
  const { store } = options;

  /** What became of an attempt in doubt: applied, not applied, or not known yet. */
  const verdictOf = async (
    record: Extract<IdempotencyRecord, { state: 'in-doubt' }>,
  ): Promise<'applied' | 'not-applied' | 'unknown'> => {
    if (!record.command) return 'unknown';
    const outcomeKey = commandOutcomeKey(record.command.tenant, record.command.commandId);
    const known = await store.get(outcomeKey);
    if (known) return known === 'applied' ? 'applied' : 'not-applied';
    // No verdict yet: once the projector has passed everything the log holds now, the attempt is
    // either decided or was never appended.
    const positions: EventPosition[] = [];
    for (const [partition, end] of await options.bus.endOffsets(Topics.directory))
      if (end > 0n) positions.push({ topic: Topics.directory, partition, offset: end - 1n });
    try {
      await waitForProjections(store, positions, { timeoutMs: options.readYourWritesMs });
    } catch {
      return 'unknown';
    }
    return (await store.get(outcomeKey)) === 'applied' ? 'applied' : 'not-applied';
  };

  const replay = (ctx: Context, record: Extract<IdempotencyRecord, { state: 'done' }>) => {
    ctx.status = record.status;
    if (record.location) ctx.set('Location', record.location);
    ctx.set('Idempotent-Replayed', 'true');
    if (record.body !== null) ctx.body = JSON.parse(record.body);
  };

  return async (ctx, next) => {
    const header = ctx.get('idempotency-key');
    if (!header || !changes.has(ctx.method)) return next();
    const key = parseKey(header);
    if (!key)
      throw OktaApiError.validation([
        { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
      ]);
    const body = await readRawBody(ctx, maxBodyBytes);
    const fingerprint = sha256(`${ctx.get('content-type')}\n${body.toString('base64')}`);
    const recordKey = `fs:idempotency:${sha256(
      JSON.stringify([ctx.get('authorization'), ctx.method, ctx.url, key]),
    )}`;
    const running = JSON.stringify({ state: 'running', fingerprint } satisfies IdempotencyRecord);

    // Claim the key, or answer from its record.
    for (let claimed = false; !claimed; ) {
      claimed = await store.setIfAbsent(recordKey, running, { ttlMs: runningMs });
      if (claimed) break;
      const stored = await store.get(recordKey);
      // Expired meanwhile: claim it again.
      if (stored === null) continue;
      const record = JSON.parse(stored) as IdempotencyRecord;
      if (record.fingerprint !== fingerprint)
        throw new OktaApiError(422, 'E0000001', 'Api validation failed: Idempotency-Key', [
          { errorSummary: 'Idempotency-Key: was already used with another request' },
        ]);
      if (record.state === 'running')
        throw new OktaApiError(
          409,
          'E0000112',
          'A request with this Idempotency-Key is still in progress; try again shortly.',
          [],
          { 'Retry-After': '1' },
        );
      if (record.state === 'done') return replay(ctx, record);
      const verdict = await verdictOf(record);
      if (verdict === 'unknown')
        throw OktaApiError.unavailable(
          'The first request with this Idempotency-Key may still apply; what became of it is not known yet. Try again shortly.',
        );
      if (verdict === 'applied') {
        const done = {
          state: 'done',
          fingerprint,
          status: 409,
          body: JSON.stringify({
            errorCode: 'E0000112',
            errorSummary:
              'The first request with this Idempotency-Key was applied after it answered 503; look the object up.',
            errorLink: 'E0000112',
            errorId: `oae${sha256(recordKey).slice(0, 22)}`,
            errorCauses: [],
          }),
        } satisfies IdempotencyRecord;
        await store.set(recordKey, JSON.stringify(done), { ttlMs: keptMs });
        return replay(ctx, done);
      }
      // Refused, or never appended: nothing was changed, so this request runs as a new one.
      claimed = await store.compareAndSet(recordKey, stored, running, { ttlMs: runningMs });
    }

    let outcome: IdempotencyRecord | undefined;
    try {
      await next();
      const failure = ctx.state.commandFailure as CommandFailure | undefined;
      if (failure?.kind === 'in-doubt')
        outcome = {
          state: 'in-doubt',
          fingerprint,
          ...(failure.command ? { command: failure.command } : {}),
        };
      else if (ctx.status < 500 && !ctx.response.get('Retry-After')) {
        const location = ctx.response.get('Location');
        outcome = {
          state: 'done',
          fingerprint,
          status: ctx.status,
          body: ctx.body === undefined || ctx.body === null ? null : JSON.stringify(ctx.body),
          ...(location ? { location } : {}),
        };
      }
    } finally {
      // Anything else (nothing changed, try again; or an unexpected error): the key is free again.
      await (outcome
        ? store.set(recordKey, JSON.stringify(outcome), {
            ttlMs: outcome.state === 'in-doubt' ? inDoubtMs : keptMs,
          })
        : store.del([recordKey])
      ).catch(() => {});
    }
  };
}
