// The projection store port: Redis's data model (strings, hashes, sets, TTLs), reduced to what the
// read models need. Read models are written by the projector, and short-lived flow state by the
// service that owns it (SPEC section 6). Every key is under the store's key prefix.

export interface TtlOption {
  /** Time to live in milliseconds; absent means the key does not expire. */
  ttlMs?: number;
}

/** A TTL as a whole number of ms, at least 1; the same rule for every adapter. */
export function validTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1)
    throw new RangeError(`TTL must be at least 1 ms, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** One read of a `read` batch. */
export type ReadQuery =
  | { op: 'get'; key: string }
  | { op: 'hget'; key: string; field: string }
  | { op: 'hgetall'; key: string }
  | { op: 'smembers'; key: string }
  | { op: 'sismember'; key: string; member: string }
  | { op: 'exists'; key: string }
  /**
   * Entries of an ordered index (see `indexPut`), as their members `value\u0000id`, in byte order
   * of the members (UTF-8, as Redis orders them), from `min` to `max` (null: unbounded), at most
   * `limit` of them: one seek and `limit` steps, whatever the index's size.
   */
  | {
      op: 'indexRange';
      key: string;
      min: IndexBound | null;
      max: IndexBound | null;
      limit: number;
    };

/** A bound of an index range: a member, and whether it is itself in the range. */
export interface IndexBound {
  member: string;
  inclusive: boolean;
}

/** The result of each query type, in order. */
export type ReadResult<Q extends ReadQuery = ReadQuery> = Q extends { op: 'get' | 'hget' }
  ? string | null
  : Q extends { op: 'hgetall' }
    ? Record<string, string>
    : Q extends { op: 'smembers' | 'indexRange' }
      ? string[]
      : boolean;

/** One write of a `write` batch. */
export type WriteOp =
  | ({ op: 'set'; key: string; value: string } & TtlOption)
  /**
   * A monotonic set (SPEC section 1): sets the string only when `version` is above the version it was
   * last set with, so a late or repeated write never undoes a newer one, whichever process wrote it.
   * The version is kept beside the value, under `versionKey(key)` with the same lifetime; a value set
   * by any other means counts as version 0. For state that a service writes first and the projector
   * writes again from the event (a refresh token's family).
   */
  | ({ op: 'setIfNewer'; key: string; value: string; version: number } & TtlOption)
  | { op: 'del'; key: string }
  | { op: 'hset'; key: string; fields: Record<string, string> }
  | { op: 'hdel'; key: string; fields: readonly string[] }
  | { op: 'sadd'; key: string; members: readonly string[] }
  | { op: 'srem'; key: string; members: readonly string[] }
  | { op: 'expire'; key: string; ttlMs: number }
  /**
   * Puts `id` in the ordered index `key` under `value`, replacing the value it had there: the index
   * is a sorted set of members `value\u0000id` (a Redis sorted set with every score 0, ordered by
   * bytes) beside a hash, `indexValuesKey(key)`, of each id's current value, so that a projection
   * can move an id without knowing its previous value. A `\u0000` in `value` is dropped.
   */
  | { op: 'indexPut'; key: string; id: string; value: string }
  /** Takes `id` out of the ordered index `key`. */
  | { op: 'indexDelete'; key: string; id: string };

export interface ProjectionStore {
  get(key: string): Promise<string | null>;
  /** Reads many string keys in one round trip; null for absent ones. */
  mget(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, options?: TtlOption): Promise<void>;
  /** Sets the key only when it does not exist; true when it was set. */
  setIfAbsent(key: string, value: string, options?: TtlOption): Promise<boolean>;
  /** Reads and deletes a key atomically: of concurrent callers, exactly one gets the value. */
  getDel(key: string): Promise<string | null>;
  /**
   * Atomically replaces the value `expected` (null: the key is absent) with `next` (null: delete
   * the key). True when the key held `expected` and was changed.
   */
  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    options?: TtlOption & {
      /** Records `next` as this version of the key, as `setIfNewer` does. */
      version?: number;
    },
  ): Promise<boolean>;
  /** Deletes keys of any type; returns how many existed. */
  del(keys: readonly string[]): Promise<number>;
  /** Remaining lifetime in ms: -1 when the key does not expire, -2 when it does not exist. */
  pttl(key: string): Promise<number>;
  /** Sets a key's time to live; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;

  hset(key: string, fields: Record<string, string>): Promise<void>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  hdel(key: string, fields: readonly string[]): Promise<number>;

  sadd(key: string, members: readonly string[]): Promise<number>;
  srem(key: string, members: readonly string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  sismember(key: string, member: string): Promise<boolean>;

  /**
   * Runs several reads in one round trip; with a `guard`, only while its key holds its value
   * (atomically with the reads), else GuardFailedError.
   */
  read<const Q extends readonly ReadQuery[]>(
    queries: Q,
    guard?: Guard,
  ): Promise<{ -readonly [I in keyof Q]: ReadResult<Q[I]> }>;
  /**
   * Applies several writes in one round trip, isolated: no other command runs between them (one Lua
   * script on Redis). As in Redis, a write that fails (WrongTypeError) does not undo the ones before
   * it, and the ones after it are not applied; projections write keys of one type each, so that does
   * not arise. With a `guard`, nothing is written unless its key holds its value: GuardFailedError.
   */
  write(ops: readonly WriteOp[], guard?: Guard): Promise<void>;
  /**
   * A projector's write (SPEC section 1, monotonic projections): applies `ops` as `write` does and
   * sets `positionKey` to `offset`, only when the position stored there is below `offset` (or there
   * is none), atomically. False, and nothing written, otherwise: an event is never applied twice, nor
   * after a later event of its partition, by any number of projector replicas.
   */
  writeAtPosition(
    positionKey: string,
    offset: bigint,
    ops: readonly WriteOp[],
    guard?: Guard,
  ): Promise<boolean>;
  /** Every key that starts with `prefix`, in batches. */
  scan(prefix: string): AsyncIterable<string[]>;
  /**
   * Every key under `prefix` with its type, value and whether it expires, sorted by key: a
   * snapshot to compare read models (a rebuilt one with the original). Not for hot paths.
   */
  dump(prefix: string): Promise<DumpedKey[]>;
  /** Deletes every key that starts with `prefix`; returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

export type DumpedKey =
  | { key: string; type: 'string'; value: string; expires: boolean }
  | { key: string; type: 'hash'; value: Record<string, string>; expires: boolean }
  | { key: string; type: 'set'; value: string[]; expires: boolean }
  /** An ordered index's sorted set: its members in order. */
  | { key: string; type: 'zset'; value: string[]; expires: boolean };

/** A condition on one string key, checked atomically with the reads or writes it guards. */
export interface Guard {
  key: string;
  /** The value the key must hold; null: the key must be absent. */
  value: string | null;
}

/** A guard did not hold: its key holds `actual` (null: absent), so nothing was read or written. */
export class GuardFailedError extends Error {
  override readonly name = 'GuardFailedError';
  constructor(
    readonly key: string,
    readonly actual: string | null,
  ) {
    super(`${key} holds ${actual === null ? 'nothing' : JSON.stringify(actual)}`);
  }
}

/** Where an ordered index keeps each id's current value (a hash). */
export const indexValuesKey = (key: string) => `${key}#values`;

/** An ordered index's member for `value` and `id`; ids never hold `\u0000`. */
export const indexMember = (value: string, id: string) =>
  `${value.replaceAll('\u0000', '')}\u0000${id}`;

/** The value and id of an ordered index's member. */
export function indexEntry(member: string): { value: string; id: string } {
  const at = member.lastIndexOf('\u0000');
  return { value: member.slice(0, at), id: member.slice(at + 1) };
}

/**
 * Orders strings as their UTF-8 bytes compare (code point order), as Redis orders members; plain
 * `<` compares UTF-16 code units, which differs above U+D7FF.
 */
export function compareMembers(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800-DFFF) stand for code points above FFFF: move them above E000-FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Where `setIfNewer` keeps the version of the value under `key`. */
export const versionKey = (key: string) => `${key}#version`;

/** The store could not be reached or did not answer in time. Token checks fail closed on it. */
export class ProjectionStoreUnavailableError extends Error {
  override readonly name = 'ProjectionStoreUnavailableError';
}

/** An operation of one type on a key that holds another (Redis's WRONGTYPE). */
export class WrongTypeError extends Error {
  override readonly name = 'WrongTypeError';
  constructor(readonly key: string) {
    super(`key ${key} holds a value of another type`);
  }
}
