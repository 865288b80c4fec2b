// The in-memory adapter of the projection store: the all-in-one mode's read models, rebuilt from the
// event log at start. It keeps Redis's semantics (types, WRONGTYPE, TTLs, empty collections vanish),
// and passes the same conformance suite as the Redis adapter. Operations are synchronous underneath,
// so each one, and each batch, is atomic.
import {
  type DumpedKey,
  type Guard,
  GuardFailedError,
  indexMember,
  indexValuesKey,
  type ProjectionStore,
  type ReadQuery,
  type ReadResult,
  type TtlOption,
  validTtl,
  versionKey,
  type WriteOp,
  WrongTypeError,
} from './port.js';
import { SortedMembers } from './sorted-members.js';

type Value =
  | { type: 'string'; value: string }
  | { type: 'hash'; value: Map<string, string> }
  | { type: 'set'; value: Set<string> }
  | { type: 'zset'; value: SortedMembers };
type Entry = Value & { expiresAt?: number };

export interface MemoryProjectionStoreOptions {
  /** Clock for TTLs, in ms. Default `Date.now`. */
  now?: () => number;
  /** How often expired keys are swept out of memory (they are invisible at once anyway). Default 1 s. */
  sweepIntervalMs?: number;
}

export class MemoryProjectionStore implements ProjectionStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryProjectionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.sweeper.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.string(key);
  }

  async mget(keys: readonly string[]): Promise<(string | null)[]> {
    // Like MGET: a key of another type reads as null.
    return keys.map((key) => {
      const entry = this.entry(key);
      return entry?.type === 'string' ? entry.value : null;
    });
  }

  async set(key: string, value: string, options?: TtlOption): Promise<void> {
    this.setString(key, value, options?.ttlMs);
  }

  async setIfAbsent(key: string, value: string, options?: TtlOption): Promise<boolean> {
    const ttl = ttlOf(options?.ttlMs);
    if (this.entry(key)) return false;
    this.setString(key, value, ttl);
    return true;
  }

  async getDel(key: string): Promise<string | null> {
    const value = this.string(key);
    if (value !== null) this.entries.delete(key);
    return value;
  }

  async compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    options?: TtlOption & { version?: number },
  ): Promise<boolean> {
    const ttl = ttlOf(options?.ttlMs);
    if (this.string(key) !== expected) return false;
    if (next === null) this.entries.delete(key);
    else this.setString(key, next, ttl);
    if (next !== null && options?.version !== undefined)
      this.setString(versionKey(key), String(options.version), ttl);
    return true;
  }

  async del(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const key of new Set(keys)) {
      if (this.entry(key)) {
        this.entries.delete(key);
        deleted += 1;
      }
    }
    return deleted;
  }

  async pttl(key: string): Promise<number> {
    const entry = this.entry(key);
    if (!entry) return -2;
    return entry.expiresAt === undefined ? -1 : entry.expiresAt - this.now();
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const ttl = ttlOf(ttlMs)!;
    const entry = this.entry(key);
    if (!entry) return false;
    entry.expiresAt = this.now() + ttl;
    return true;
  }

  async hset(key: string, fields: Record<string, string>): Promise<void> {
    this.applyHset(key, fields);
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.hash(key)?.get(field) ?? null;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.hash(key) ?? []);
  }

  async hdel(key: string, fields: readonly string[]): Promise<number> {
    return this.applyHdel(key, fields);
  }

  async sadd(key: string, members: readonly string[]): Promise<number> {
    return this.applySadd(key, members);
  }

  async srem(key: string, members: readonly string[]): Promise<number> {
    return this.applySrem(key, members);
  }

  async smembers(key: string): Promise<string[]> {
    return [...(this.set_(key) ?? [])];
  }

  async sismember(key: string, member: string): Promise<boolean> {
    return this.set_(key)?.has(member) ?? false;
  }

  async read<const Q extends readonly ReadQuery[]>(
    queries: Q,
    guard?: Guard,
  ): Promise<{ -readonly [I in keyof Q]: ReadResult<Q[I]> }> {
    this.check(guard);
    return queries.map((query) => this.readOne(query)) as never;
  }

  /** Throws GuardFailedError unless the guard holds. Synchronous: nothing runs between it and the op. */
  private check(guard: Guard | undefined): void {
    if (!guard) return;
    const actual = this.string(guard.key);
    if (actual !== guard.value) throw new GuardFailedError(guard.key, actual);
  }

  private readOne(query: ReadQuery): ReadResult {
    switch (query.op) {
      case 'get':
        return this.string(query.key);
      case 'hget':
        return this.hash(query.key)?.get(query.field) ?? null;
      case 'hgetall':
        return Object.fromEntries(this.hash(query.key) ?? []);
      case 'smembers':
        return [...(this.set_(query.key) ?? [])];
      case 'sismember':
        return this.set_(query.key)?.has(query.member) ?? false;
      case 'exists':
        return this.entry(query.key) !== undefined;
      case 'indexRange':
        return this.zset(query.key)?.range(query.min, query.max, query.limit) ?? [];
    }
  }

  async write(ops: readonly WriteOp[], guard?: Guard): Promise<void> {
    this.checkTtls(ops);
    this.check(guard);
    for (const op of ops) this.apply(op);
  }

  /** TTLs are checked first, as the Redis adapter checks them before it sends anything. */
  private checkTtls(ops: readonly WriteOp[]): void {
    for (const op of ops) {
      if (op.op === 'set' || op.op === 'setIfNewer' || op.op === 'expire') ttlOf(op.ttlMs);
    }
  }

  async writeAtPosition(
    positionKey: string,
    offset: bigint,
    ops: readonly WriteOp[],
    guard?: Guard,
  ): Promise<boolean> {
    this.check(guard);
    const stored = this.string(positionKey);
    if (stored !== null && BigInt(stored) >= offset) return false;
    this.checkTtls(ops);
    for (const op of ops) this.apply(op);
    this.setString(positionKey, offset.toString(), undefined);
    return true;
  }

  private apply(op: WriteOp): void {
    switch (op.op) {
      case 'set':
        this.setString(op.key, op.value, op.ttlMs);
        break;
      case 'setIfNewer': {
        const stored = this.string(versionKey(op.key));
        if (stored !== null && Number(stored) >= op.version) break;
        this.setString(op.key, op.value, op.ttlMs);
        this.setString(versionKey(op.key), String(op.version), op.ttlMs);
        break;
      }
      case 'del':
        this.entries.delete(op.key);
        break;
      case 'hset':
        this.applyHset(op.key, op.fields);
        break;
      case 'hdel':
        this.applyHdel(op.key, op.fields);
        break;
      case 'sadd':
        this.applySadd(op.key, op.members);
        break;
      case 'srem':
        this.applySrem(op.key, op.members);
        break;
      case 'expire': {
        const entry = this.entry(op.key);
        if (entry) entry.expiresAt = this.now() + ttlOf(op.ttlMs)!;
        break;
      }
      case 'indexPut':
        this.indexPut(op.key, op.id, op.value);
        break;
      case 'indexDelete':
        this.indexDelete(op.key, op.id);
        break;
    }
  }

  async *scan(prefix: string): AsyncIterable<string[]> {
    const keys = [...this.entries.keys()].filter(
      (key) => key.startsWith(prefix) && this.entry(key),
    );
    for (let i = 0; i < keys.length; i += 1000) yield keys.slice(i, i + 1000);
  }

  async dump(prefix: string): Promise<DumpedKey[]> {
    const dumped: DumpedKey[] = [];
    for (const key of [...this.entries.keys()].sort()) {
      const entry = key.startsWith(prefix) ? this.entry(key) : undefined;
      if (!entry) continue;
      const expires = entry.expiresAt !== undefined;
      if (entry.type === 'string')
        dumped.push({ key, type: 'string', value: entry.value, expires });
      else if (entry.type === 'hash')
        dumped.push({ key, type: 'hash', value: sortedRecord(entry.value), expires });
      else if (entry.type === 'zset')
        dumped.push({ key, type: 'zset', value: entry.value.all(), expires });
      else dumped.push({ key, type: 'set', value: [...entry.value].sort(), expires });
    }
    return dumped;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) deleted += await this.del(keys);
    return deleted;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** The live entry of a key, dropping it when it has expired. */
  private entry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private string(key: string): string | null {
    const entry = this.entry(key);
    if (!entry) return null;
    if (entry.type !== 'string') throw new WrongTypeError(key);
    return entry.value;
  }

  private hash(key: string): Map<string, string> | undefined {
    const entry = this.entry(key);
    if (entry && entry.type !== 'hash') throw new WrongTypeError(key);
    return entry?.value;
  }

  private set_(key: string): Set<string> | undefined {
    const entry = this.entry(key);
    if (entry && entry.type !== 'set') throw new WrongTypeError(key);
    return entry?.value;
  }

  private zset(key: string): SortedMembers | undefined {
    const entry = this.entry(key);
    if (entry && entry.type !== 'zset') throw new WrongTypeError(key);
    return entry?.value;
  }

  /** As the Redis script does it: the values hash says what to remove, then both are updated. */
  private indexPut(key: string, id: string, value: string): void {
    let index = this.zset(key);
    const values = indexValuesKey(key);
    const old = this.hash(values)?.get(id);
    const stored = value.replaceAll('\u0000', '');
    if (!index) {
      index = new SortedMembers();
      this.entries.set(key, { type: 'zset', value: index });
    }
    if (old !== undefined) index.delete(indexMember(old, id));
    index.add(indexMember(stored, id));
    this.applyHset(values, { [id]: stored });
  }

  private indexDelete(key: string, id: string): void {
    const index = this.zset(key);
    const values = indexValuesKey(key);
    const old = this.hash(values)?.get(id);
    if (old === undefined) return;
    index?.delete(indexMember(old, id));
    if (index?.size === 0) this.entries.delete(key);
    this.applyHdel(values, [id]);
  }

  private setString(key: string, value: string, ttlMs: number | undefined): void {
    const ttl = ttlOf(ttlMs);
    this.entries.set(key, {
      type: 'string',
      value,
      ...(ttl === undefined ? {} : { expiresAt: this.now() + ttl }),
    });
  }

  private applyHset(key: string, fields: Record<string, string>): void {
    const names = Object.keys(fields);
    if (names.length === 0) return;
    let hash = this.hash(key);
    if (!hash) {
      hash = new Map();
      this.entries.set(key, { type: 'hash', value: hash });
    }
    for (const name of names) hash.set(name, fields[name]!);
  }

  private applyHdel(key: string, fields: readonly string[]): number {
    const hash = this.hash(key);
    if (!hash) return 0;
    let deleted = 0;
    for (const field of fields) if (hash.delete(field)) deleted += 1;
    if (hash.size === 0) this.entries.delete(key);
    return deleted;
  }

  private applySadd(key: string, members: readonly string[]): number {
    if (members.length === 0) return 0;
    let set = this.set_(key);
    if (!set) {
      set = new Set();
      this.entries.set(key, { type: 'set', value: set });
    }
    const before = set.size;
    for (const member of members) set.add(member);
    return set.size - before;
  }

  private applySrem(key: string, members: readonly string[]): number {
    const set = this.set_(key);
    if (!set) return 0;
    let removed = 0;
    for (const member of members) if (set.delete(member)) removed += 1;
    if (set.size === 0) this.entries.delete(key);
    return removed;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}

function sortedRecord(map: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function ttlOf(ttlMs: number | undefined): number | undefined {
  return ttlMs === undefined ? undefined : validTtl(ttlMs);
}
