// Generations of the read models (issue 15: blue/green projections, a lost store healed). The read
// models (keys under `rm:` and the projector's `pos:`) live in a generation, `gen:{id}:{key}`, and
// one key, `generation`, names the current one. Readers follow it, checking it atomically with
// every read: an emptied or replaced store (no current generation) is never read as valid, and a
// rebuild builds a new generation beside the live one and switches the pointer only once it has
// caught up. State that services write themselves (`fs:`: flow state, and the entries they write
// before the projector does, all monotonic or set once) and locks are shared by every generation.
import {
  type DumpedKey,
  type Guard,
  GuardFailedError,
  type ProjectionStore,
  ProjectionStoreUnavailableError,
  type ReadQuery,
  type ReadResult,
  type TtlOption,
  type WriteOp,
} from './port.js';

/** The key naming the current generation. */
export const generationPointerKey = 'generation';

/** Whether a key belongs to a generation (a read model, a projector's position), not shared. */
export const isGenerational = (key: string) => key.startsWith('rm:') || key.startsWith('pos:');

const generationPrefix = (generation: string) => `gen:${generation}:`;

/** No generation is current: the read models were lost (or never built) and are being rebuilt. */
export class NoGenerationError extends ProjectionStoreUnavailableError {}

/** A live view's generation is no longer the current one: its projector must move on. */
export class GenerationReplacedError extends Error {
  override readonly name = 'GenerationReplacedError';
  constructor(
    readonly generation: string,
    readonly current: string | null,
  ) {
    super(`generation ${generation} is not current (${current ?? 'none is'})`);
  }
}

export interface Generations {
  /** The current generation, or null when there is none (lost, or never built). */
  current(): Promise<string | null>;
  /**
   * The store as generation `id` holds it. `live`: its writes hold only while `id` is current
   * (GenerationReplacedError otherwise), as a projector serving it writes; `building`: unguarded,
   * as a rebuild fills a generation nobody reads yet.
   */
  view(id: string, mode: 'live' | 'building'): ProjectionStore;
  /** Makes `next` current if `expected` still is (null: none is), atomically. */
  switch(expected: string | null, next: string): Promise<boolean>;
  /** Every generation with keys in the store. */
  list(): Promise<string[]>;
  /** Deletes a generation's keys; returns how many. */
  drop(id: string): Promise<number>;
  /** A fresh generation id, sortable by creation time. */
  newId(): string;
}

interface Binding {
  generation: string;
  guarded: boolean;
}

/**
 * A projection store over generations of a base store (any adapter). The root follows the current
 * generation; `generations.view` binds one. Single-key commands other than plain reads and writes
 * (compare-and-set, get-and-delete, set-if-absent, TTLs) are for shared keys only.
 */
export class GenerationalStore implements ProjectionStore {
  readonly generations: Generations;
  /** The follower's last known current generation. */
  private cached: string | null | undefined;

  constructor(
    /** The store underneath: every generation, the shared keys and the pointer. */
    readonly base: ProjectionStore,
    private readonly binding?: Binding,
  ) {
    this.generations = {
      current: async () => {
        this.cached = await base.get(generationPointerKey);
        return this.cached;
      },
      view: (generation, mode) =>
        new GenerationalStore(base, { generation, guarded: mode === 'live' }),
      switch: async (expected, next) => {
        const switched = await base.compareAndSet(generationPointerKey, expected, next);
        this.cached = undefined;
        return switched;
      },
      list: async () => {
        const ids = new Set<string>();
        for await (const batch of base.scan('gen:'))
          for (const key of batch) ids.add(key.slice(4, key.indexOf(':', 4)));
        return [...ids].sort();
      },
      drop: (generation) => base.deleteByPrefix(generationPrefix(generation)),
      newId: () =>
        `${Date.now().toString(36).padStart(9, '0')}${Math.random().toString(36).slice(2, 8)}`,
    };
  }

  /** Runs `op` on the generation this store reads and writes, with the guard that keeps it so. */
  private async inGeneration<T>(op: (generation: string, guard?: Guard) => Promise<T>): Promise<T> {
    if (this.binding) {
      const { generation, guarded } = this.binding;
      if (!guarded) return op(generation);
      try {
        return await op(generation, { key: generationPointerKey, value: generation });
      } catch (error) {
        if (error instanceof GuardFailedError)
          throw new GenerationReplacedError(generation, error.actual);
        throw error;
      }
    }
    // The follower: its known generation, checked with the op itself; on a switch, once more.
    for (let attempt = 0; ; attempt++) {
      const generation = this.cached === undefined ? await this.generations.current() : this.cached;
      if (generation === null)
        throw new NoGenerationError('the read models are being rebuilt; try again shortly');
      try {
        return await op(generation, { key: generationPointerKey, value: generation });
      } catch (error) {
        if (!(error instanceof GuardFailedError)) throw error;
        this.cached = error.actual;
        if (attempt > 0)
          throw new NoGenerationError('the read models changed generation twice; try again');
      }
    }
  }

  private mapped = (generation: string) => (key: string) =>
    isGenerational(key) ? `${generationPrefix(generation)}${key}` : key;

  private shared(keys: readonly string[]): boolean {
    return keys.every((key) => !isGenerational(key));
  }

  async read<const Q extends readonly ReadQuery[]>(
    queries: Q,
    guard?: Guard,
  ): Promise<{ -readonly [I in keyof Q]: ReadResult<Q[I]> }> {
    if (this.shared(queries.map((q) => q.key))) return this.base.read(queries, guard);
    if (guard) throw new Error('a read of read-model keys takes no other guard');
    return this.inGeneration((generation, own) => {
      const map = this.mapped(generation);
      return this.base.read(
        queries.map((query) => ({ ...query, key: map(query.key) })) as unknown as Q,
        own,
      );
    });
  }

  async get(key: string): Promise<string | null> {
    return (await this.read([{ op: 'get', key }]))[0];
  }

  async mget(keys: readonly string[]): Promise<(string | null)[]> {
    if (this.shared(keys)) return this.base.mget(keys);
    // As MGET: a key of another type reads as null.
    const types = await this.read(keys.map((key) => ({ op: 'get', key }) as const)).catch(
      async (error: unknown) => {
        if (error instanceof Error && error.name === 'WrongTypeError')
          return Promise.all(keys.map((key) => this.get(key).catch(() => null)));
        throw error;
      },
    );
    return types as (string | null)[];
  }

  async hget(key: string, field: string): Promise<string | null> {
    return (await this.read([{ op: 'hget', key, field }]))[0];
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return (await this.read([{ op: 'hgetall', key }]))[0];
  }

  async smembers(key: string): Promise<string[]> {
    return (await this.read([{ op: 'smembers', key }]))[0];
  }

  async sismember(key: string, member: string): Promise<boolean> {
    return (await this.read([{ op: 'sismember', key, member }]))[0];
  }

  async write(ops: readonly WriteOp[], guard?: Guard): Promise<void> {
    if (this.shared(ops.map((op) => op.key))) return this.base.write(ops, guard);
    if (guard) throw new Error('a write of read-model keys takes no other guard');
    await this.inGeneration((generation, own) => {
      const map = this.mapped(generation);
      return this.base.write(
        ops.map((op) => ({ ...op, key: map(op.key) })),
        own,
      );
    });
  }

  writeAtPosition(
    positionKey: string,
    offset: bigint,
    ops: readonly WriteOp[],
    guard?: Guard,
  ): Promise<boolean> {
    if (guard) throw new Error('a projector write takes no other guard');
    return this.inGeneration((generation, own) => {
      const map = this.mapped(generation);
      return this.base.writeAtPosition(
        map(positionKey),
        offset,
        ops.map((op) => ({ ...op, key: map(op.key) })),
        own,
      );
    });
  }

  set(key: string, value: string, options?: TtlOption): Promise<void> {
    return this.write([{ op: 'set', key, value, ...options }]);
  }

  hset(key: string, fields: Record<string, string>): Promise<void> {
    return this.write([{ op: 'hset', key, fields }]);
  }

  async hdel(key: string, fields: readonly string[]): Promise<number> {
    if (!isGenerational(key)) return this.base.hdel(key, fields);
    const present = await this.hgetall(key);
    await this.write([{ op: 'hdel', key, fields }]);
    return fields.filter((field) => field in present).length;
  }

  async sadd(key: string, members: readonly string[]): Promise<number> {
    if (!isGenerational(key)) return this.base.sadd(key, members);
    const present = new Set(await this.smembers(key));
    await this.write([{ op: 'sadd', key, members }]);
    return new Set(members.filter((member) => !present.has(member))).size;
  }

  async srem(key: string, members: readonly string[]): Promise<number> {
    if (!isGenerational(key)) return this.base.srem(key, members);
    const present = new Set(await this.smembers(key));
    await this.write([{ op: 'srem', key, members }]);
    return new Set(members.filter((member) => present.has(member))).size;
  }

  async del(keys: readonly string[]): Promise<number> {
    if (this.shared(keys)) return this.base.del(keys);
    const present = await this.read(keys.map((key) => ({ op: 'exists', key }) as const));
    await this.write(keys.map((key) => ({ op: 'del', key })));
    return present.filter(Boolean).length;
  }

  private sharedOnly(key: string): void {
    if (isGenerational(key))
      throw new Error(`${key}: a read-model key; this command is for shared keys only`);
  }

  setIfAbsent(key: string, value: string, options?: TtlOption): Promise<boolean> {
    this.sharedOnly(key);
    return this.base.setIfAbsent(key, value, options);
  }

  getDel(key: string): Promise<string | null> {
    this.sharedOnly(key);
    return this.base.getDel(key);
  }

  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    options?: TtlOption & { version?: number },
  ): Promise<boolean> {
    this.sharedOnly(key);
    return this.base.compareAndSet(key, expected, next, options);
  }

  pttl(key: string): Promise<number> {
    this.sharedOnly(key);
    return this.base.pttl(key);
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    this.sharedOnly(key);
    return this.base.expire(key, ttlMs);
  }

  /** The generation that scans, dumps and deletions under `prefix` see, if any. */
  private async generationFor(prefix: string): Promise<string | null> {
    const reaches = isGenerational(prefix) || 'rm:'.startsWith(prefix) || 'pos:'.startsWith(prefix);
    if (!reaches) return null;
    if (this.binding) return this.binding.generation;
    return this.generations.current();
  }

  async *scan(prefix: string): AsyncIterable<string[]> {
    if (!isGenerational(prefix))
      for await (const batch of this.base.scan(prefix)) {
        const shared = batch.filter(
          (key) => !key.startsWith('gen:') && key !== generationPointerKey,
        );
        if (shared.length > 0) yield shared;
      }
    const generation = await this.generationFor(prefix);
    if (generation === null) return;
    const own = generationPrefix(generation);
    for await (const batch of this.base.scan(`${own}${prefix}`))
      yield batch.map((key) => key.slice(own.length));
  }

  async dump(prefix: string): Promise<DumpedKey[]> {
    const shared = isGenerational(prefix)
      ? []
      : (await this.base.dump(prefix)).filter(
          (entry) => !entry.key.startsWith('gen:') && entry.key !== generationPointerKey,
        );
    const generation = await this.generationFor(prefix);
    const own = generation === null ? '' : generationPrefix(generation);
    const held =
      generation === null
        ? []
        : (await this.base.dump(`${own}${prefix}`)).map((entry) => ({
            ...entry,
            key: entry.key.slice(own.length),
          }));
    return [...shared, ...held].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) {
      const generation = await this.generationFor(prefix);
      deleted += await this.base.del(
        keys.map((key) =>
          generation !== null && isGenerational(key)
            ? `${generationPrefix(generation)}${key}`
            : key,
        ),
      );
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (!this.binding) await this.base.close();
  }
}
