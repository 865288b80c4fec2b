// The Redis adapter of the projection store (ioredis). Single commands where Redis is atomic on its
// own (GETDEL, SET NX), Lua where a check and a write must be one step (compare-and-set, write
// batches with their position guard and monotonic sets) and for read batches. Commands issued in the
// same tick share one round trip (auto-pipelining). With replicas to wait for, every write is
// followed in that round trip by a WAIT, and is answered only once they have it.

import { processMetrics } from '@gatehouse/metrics';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type DumpedKey,
  type Guard,
  GuardFailedError,
  type IndexBound,
  indexValuesKey,
  type ProjectionStore,
  ProjectionStoreUnavailableError,
  type ReadQuery,
  type ReadResult,
  type TtlOption,
  validTtl,
  versionKey,
  type WriteOp,
  WrongTypeError,
} from './port.js';
import { sentinelRedisOptions } from './redis-connection.js';

export interface RedisProjectionStoreOptions {
  /**
   * `redis://host:port/db`, or `redis+sentinel://host:port,host:port/name` for the primary that
   * Sentinels watch (GATEHOUSE_REDIS_URL).
   */
  url: string;
  /** Prepended to every key, so that several stores can share one Redis. Default `gh:`. */
  keyPrefix?: string;
  /** Longest wait for one call (a command, or a pipeline of them) before it fails. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** More ioredis options, for TLS, sentinels and the like. */
  redis?: RedisOptions;
  /**
   * Replicas that must confirm a write (Redis WAIT) before it is answered; a write they do not
   * confirm in time fails with ProjectionStoreUnavailableError (GATEHOUSE_REDIS_WAIT_REPLICAS).
   * Default 1 with Sentinel, else 0. Bounded by the replicas the primary has connected (ROLE, asked
   * on every connection and twice a second): a primary left alone, its replica dead, goes on taking
   * writes without WAIT, since no replica is there to be promoted over it and lose them. A deployment
   * that would rather refuse writes then sets min-replicas-to-write on Redis itself.
   */
  waitReplicas?: number;
  /** The WAIT's bound (GATEHOUSE_REDIS_WAIT_TIMEOUT_MS). Default 500 ms. */
  waitTimeoutMs?: number;
}

// KEYS[1] key, KEYS[2] its version key; ARGV: expected present (0/1), expected, next present (0/1),
// next, ttl ms ('' = none), version of next ('' = none)
const compareAndSetScript = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then
  if ARGV[5] ~= '' then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
    if ARGV[6] ~= '' then redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5]) end
  else
    redis.call('SET', KEYS[1], ARGV[4])
    if ARGV[6] ~= '' then redis.call('SET', KEYS[2], ARGV[6]) end
  end
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

// A read batch as one command: KEYS one per query; ARGV[1] the queries' op codes and arguments,
// packed as one string: per query an op code letter, the argument's length in bytes, ':' and the
// argument ('' when the op has none). One command instead of a pipeline of many: Redis replies once,
// and the client builds one command and parses one reply, which is most of a token check's cost in
// this process; one packed argument instead of two per query halves what the client encodes. The
// reply is one JSON string (cjson): JSON.parse is native, where decoding a nested RESP array is not.
// pcall keeps a query's error (WRONGTYPE) in its own slot as {"err": ...}; false stands for a
// missing value; cjson writes an empty table (no fields, no members) as {}.
// With a guard, its key comes last in KEYS and ARGV[2] is what it must hold ('0': absent; '1' and
// the value): when it holds something else, the reply is {"guard": what it holds, or false}.
const readScript = `
local spec = ARGV[1]
local n = #KEYS
if ARGV[2] then
  n = n - 1
  local actual = redis.call('GET', KEYS[#KEYS])
  local expected = ARGV[2]
  if (expected == '0' and actual) or (expected ~= '0' and actual ~= string.sub(expected, 2)) then
    return cjson.encode({guard = actual})
  end
end
local out = {}
local pos = 1
for i = 1, n do
  local op = string.sub(spec, pos, pos)
  local colon = string.find(spec, ':', pos + 1, true)
  local len = tonumber(string.sub(spec, pos + 1, colon - 1))
  local arg = string.sub(spec, colon + 1, colon + len)
  pos = colon + len + 1
  if op == 'g' then out[i] = redis.pcall('GET', KEYS[i])
  elseif op == 'h' then out[i] = redis.pcall('HGET', KEYS[i], arg)
  elseif op == 'a' then out[i] = redis.pcall('HGETALL', KEYS[i])
  elseif op == 'm' then out[i] = redis.pcall('SMEMBERS', KEYS[i])
  elseif op == 's' then out[i] = redis.pcall('SISMEMBER', KEYS[i], arg)
  elseif op == 'z' then
    -- an index range: '<limit> <bytes of min>:<min><max>', min and max in ZRANGEBYLEX's syntax
    local sp = string.find(arg, ' ', 1, true)
    local c = string.find(arg, ':', sp + 1, true)
    local minLen = tonumber(string.sub(arg, sp + 1, c - 1))
    out[i] = redis.pcall('ZRANGEBYLEX', KEYS[i], string.sub(arg, c + 1, c + minLen),
      string.sub(arg, c + minLen + 1), 'LIMIT', 0, tonumber(string.sub(arg, 1, sp - 1)))
  else out[i] = redis.pcall('EXISTS', KEYS[i]) end
end
return cjson.encode(out)
`;
const readOpCodes = {
  get: 'g',
  hget: 'h',
  hgetall: 'a',
  smembers: 'm',
  sismember: 's',
  exists: 'e',
  indexRange: 'z',
} as const;

// A write batch as one script, so that a projector's batch and its position guard are one step
// (writeAtPosition) and monotonic sets compare and set in place. KEYS: every key the batch names;
// ARGV[1]: JSON {g: [position key index, offset] (optional), o: [op, ...]}, each op an array of an op
// code, a key index and the op's arguments (numbers as strings: Lua's own would lose digits).
// Returns 1 when applied, 0 when the position guard refused, {index, error} for the first op that
// failed (WRONGTYPE; the ops before it stay applied, as in a MULTI), or {0, 'guard', what the
// guard key holds ('' for nothing)} when spec.k, [key index, expected value or null], did not hold.
const writeScript = `
local spec = cjson.decode(ARGV[1])
if spec.k then
  local actual = redis.call('GET', KEYS[spec.k[1]])
  local expected = spec.k[2]
  if (expected == cjson.null and actual) or (expected ~= cjson.null and actual ~= expected) then
    return {0, 'guard', actual or ''}
  end
end
if spec.g then
  local position = redis.call('GET', KEYS[spec.g[1]])
  if position and tonumber(position) >= tonumber(spec.g[2]) then return 0 end
end
for i, op in ipairs(spec.o) do
  local code, key = op[1], KEYS[op[2]]
  local result
  if code == 's' then
    if op[4] then result = redis.pcall('SET', key, op[3], 'PX', op[4])
    else result = redis.pcall('SET', key, op[3]) end
  elseif code == 'v' then
    local versionKey = KEYS[op[5]]
    local stored = redis.call('GET', versionKey)
    if (not stored) or tonumber(stored) < tonumber(op[4]) then
      if op[6] then
        result = redis.pcall('SET', key, op[3], 'PX', op[6])
        redis.call('SET', versionKey, op[4], 'PX', op[6])
      else
        result = redis.pcall('SET', key, op[3])
        redis.call('SET', versionKey, op[4])
      end
    end
  elseif code == 'd' then result = redis.pcall('DEL', key)
  elseif code == 'h' then result = redis.pcall('HSET', key, unpack(op[3]))
  elseif code == 'x' then result = redis.pcall('HDEL', key, unpack(op[3]))
  elseif code == 'a' then result = redis.pcall('SADD', key, unpack(op[3]))
  elseif code == 'r' then result = redis.pcall('SREM', key, unpack(op[3]))
  elseif code == 'e' then result = redis.pcall('PEXPIRE', key, op[3])
  elseif code == 'I' or code == 'J' then
    -- an ordered index: op[3] the values hash's key index, op[4] the id, op[5] the new value
    local values = KEYS[op[3]]
    local old = redis.pcall('HGET', values, op[4])
    if type(old) == 'table' and old.err then return {i, old.err} end
    if old then result = redis.pcall('ZREM', key, old .. '\\0' .. op[4]) end
    if not (type(result) == 'table' and result.err) then
      if code == 'I' then
        result = redis.pcall('ZADD', key, 0, op[5] .. '\\0' .. op[4])
        if not (type(result) == 'table' and result.err) then
          result = redis.pcall('HSET', values, op[4], op[5])
        end
      elseif old then
        result = redis.pcall('HDEL', values, op[4])
      end
    end
  end
  if type(result) == 'table' and result.err then return {i, result.err} end
end
if spec.g then redis.call('SET', KEYS[spec.g[1]], spec.g[2]) end
return 1
`;

type CasRedis = Redis & {
  compareAndSet(
    key: string,
    versionKey: string,
    hasExpected: string,
    expected: string,
    hasNext: string,
    next: string,
    ttl: string,
    version: string,
  ): Promise<number>;
  writeBatch(
    numberOfKeys: number,
    ...keysAndSpec: string[]
  ): Promise<number | [number, string] | [0, 'guard', string]>;
};

export class RedisProjectionStore implements ProjectionStore {
  private readonly redis: CasRedis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private lastConnectionError: string | undefined;
  private readonly reconnectListeners = new Set<() => void>();
  private everReady = false;
  /** Replicas of the primary as its last ROLE said; undefined until it answered. */
  private connectedReplicas: number | undefined;
  private readonly replicaProbe: NodeJS.Timeout | undefined;
  /** Counts connections: a WAIT confirms only the writes sent on its own connection. */
  private connection = 0;
  /** Writes sent and waiting for the next WAIT; one WAIT at most is in flight. */
  private unconfirmed: {
    connection: number;
    resolve: (replicas: number) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private waitInFlight = false;
  private waitScheduled = false;

  constructor(options: RedisProjectionStoreOptions) {
    this.prefix = options.keyPrefix ?? 'gh:';
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
    const sentinel = sentinelRedisOptions(options.url);
    this.waitReplicas = options.waitReplicas ?? (sentinel || options.redis?.sentinels ? 1 : 0);
    this.waitTimeoutMs = options.waitTimeoutMs ?? 500;
    const redisOptions: RedisOptions = {
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      // No per-command timeout: ioredis would arm and clear a timer for each command of a pipeline
      // (a token check sends about 15); `call` bounds the whole round trip with one instead.
      connectTimeout: 2000,
      lazyConnect: false,
      ...sentinel,
      ...options.redis,
    };
    this.redis = (
      redisOptions.sentinels ? new Redis(redisOptions) : new Redis(options.url, redisOptions)
    ) as CasRedis;
    // A down Redis surfaces as failed commands (ProjectionStoreUnavailableError); ioredis would
    // otherwise also print every reconnect error. The last one is kept to say why (`ping`).
    this.redis.on('error', (error: Error) => {
      this.lastConnectionError = error.message;
    });
    this.redis.on('close', () => {
      this.connection += 1;
    });
    this.redis.on('ready', () => {
      this.lastConnectionError = undefined;
      if (this.everReady) for (const listener of this.reconnectListeners) listener();
      this.everReady = true;
      this.connectedReplicas = undefined;
      if (this.waitReplicas > 0) this.probeReplicas();
    });
    if (this.waitReplicas > 0) {
      this.replicaProbe = setInterval(() => this.probeReplicas(), 500);
      this.replicaProbe.unref();
    }
    this.redis.defineCommand('compareAndSet', { numberOfKeys: 2, lua: compareAndSetScript });
    this.redis.defineCommand('writeBatch', { lua: writeScript });
    this.redis.defineCommand('readBatch', { lua: readScript });
  }

  get(key: string): Promise<string | null> {
    return this.call('get', key, () => this.redis.get(this.k(key)));
  }

  async mget(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.call('mget', keys[0]!, () => this.redis.mget(keys.map((key) => this.k(key))));
  }

  async set(key: string, value: string, options?: TtlOption): Promise<void> {
    const ttl = ttlOf(options);
    await this.durable('set', key, () =>
      ttl === undefined
        ? this.redis.set(this.k(key), value)
        : this.redis.set(this.k(key), value, 'PX', ttl),
    );
  }

  async setIfAbsent(key: string, value: string, options?: TtlOption): Promise<boolean> {
    const ttl = ttlOf(options);
    const reply = await this.durable('set', key, () =>
      ttl === undefined
        ? this.redis.set(this.k(key), value, 'NX')
        : this.redis.set(this.k(key), value, 'PX', ttl, 'NX'),
    );
    return reply === 'OK';
  }

  getDel(key: string): Promise<string | null> {
    return this.durable('getdel', key, () => this.redis.getdel(this.k(key)));
  }

  async compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    options?: TtlOption & { version?: number },
  ): Promise<boolean> {
    const ttl = ttlOf(options);
    const changed = await this.durable('compareAndSet', key, () =>
      this.redis.compareAndSet(
        this.k(key),
        this.k(versionKey(key)),
        expected === null ? '0' : '1',
        expected ?? '',
        next === null ? '0' : '1',
        next ?? '',
        ttl === undefined ? '' : String(ttl),
        options?.version === undefined ? '' : String(options.version),
      ),
    );
    return changed === 1;
  }

  async del(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.durable('del', keys[0]!, () => this.redis.del(...keys.map((key) => this.k(key))));
  }

  pttl(key: string): Promise<number> {
    return this.call('pttl', key, () => this.redis.pttl(this.k(key)));
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.durable('pexpire', key, () =>
        this.redis.pexpire(this.k(key), validTtl(ttlMs)),
      )) === 1
    );
  }

  async hset(key: string, fields: Record<string, string>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await this.durable('hset', key, () => this.redis.hset(this.k(key), fields));
  }

  hget(key: string, field: string): Promise<string | null> {
    return this.call('hget', key, () => this.redis.hget(this.k(key), field));
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.call('hgetall', key, () => this.redis.hgetall(this.k(key)));
  }

  async hdel(key: string, fields: readonly string[]): Promise<number> {
    if (fields.length === 0) return 0;
    return this.durable('hdel', key, () => this.redis.hdel(this.k(key), ...fields));
  }

  async sadd(key: string, members: readonly string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.durable('sadd', key, () => this.redis.sadd(this.k(key), ...members));
  }

  async srem(key: string, members: readonly string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.durable('srem', key, () => this.redis.srem(this.k(key), ...members));
  }

  smembers(key: string): Promise<string[]> {
    return this.call('smembers', key, () => this.redis.smembers(this.k(key)));
  }

  async sismember(key: string, member: string): Promise<boolean> {
    return (
      (await this.call('sismember', key, () => this.redis.sismember(this.k(key), member))) === 1
    );
  }

  async read<const Q extends readonly ReadQuery[]>(
    queries: Q,
    guard?: Guard,
  ): Promise<{ -readonly [I in keyof Q]: ReadResult<Q[I]> }> {
    if (queries.length === 0 && !guard) return [] as never;
    const keys: string[] = [];
    let spec = '';
    for (const query of queries) {
      keys.push(this.k(query.key));
      const arg =
        query.op === 'hget'
          ? query.field
          : query.op === 'sismember'
            ? query.member
            : query.op === 'indexRange'
              ? rangeArg(query.min, query.max, query.limit)
              : '';
      spec += `${readOpCodes[query.op]}${Buffer.byteLength(arg)}:${arg}`;
    }
    const redis = this.redis as unknown as {
      readBatch(numberOfKeys: number, ...keysAndSpec: string[]): Promise<string>;
    };
    const args = guard
      ? [...keys, this.k(guard.key), spec, guard.value === null ? '0' : `1${guard.value}`]
      : [...keys, spec];
    const parsed = JSON.parse(
      await this.call('readBatch', queries[0]?.key ?? guard!.key, () =>
        redis.readBatch(keys.length + (guard ? 1 : 0), ...args),
      ),
    ) as unknown[] | { guard: string | false };
    if (!Array.isArray(parsed)) {
      // cjson writes a reply with no queries as {} too.
      if ('guard' in parsed) throw new GuardFailedError(guard!.key, parsed.guard || null);
      return [] as never;
    }
    const replies = parsed;
    return replies.map((reply, index) => {
      const query = queries[index]!;
      if (reply !== null && typeof reply === 'object' && !Array.isArray(reply) && 'err' in reply)
        throw mapError(new Error(String(reply.err)), query.key);
      switch (query.op) {
        case 'sismember':
        case 'exists':
          return reply === 1;
        case 'hgetall': {
          const hash: Record<string, string> = {};
          if (!Array.isArray(reply)) return hash;
          for (let i = 0; i < reply.length; i += 2)
            hash[reply[i] as string] = reply[i + 1] as string;
          return hash;
        }
        case 'smembers':
        case 'indexRange':
          return Array.isArray(reply) ? reply : [];
        default:
          return typeof reply === 'string' ? reply : null;
      }
    }) as never;
  }

  async write(ops: readonly WriteOp[], guard?: Guard): Promise<void> {
    await this.writeBatch(ops, undefined, guard);
  }

  writeAtPosition(
    positionKey: string,
    offset: bigint,
    ops: readonly WriteOp[],
    guard?: Guard,
  ): Promise<boolean> {
    return this.writeBatch(ops, { key: positionKey, offset }, guard);
  }

  private async writeBatch(
    ops: readonly WriteOp[],
    position?: { key: string; offset: bigint },
    guard?: Guard,
  ): Promise<boolean> {
    if (ops.length === 0 && !position && !guard) return true;
    const keys: string[] = [];
    const indexes = new Map<string, number>();
    const index = (key: string) => {
      let i = indexes.get(key);
      if (i === undefined) {
        keys.push(this.k(key));
        i = keys.length; // Lua's KEYS count from 1
        indexes.set(key, i);
      }
      return i;
    };
    const encoded: unknown[] = [];
    /** The op each encoded entry came from, to name the key of a failure. */
    const sources: WriteOp[] = [];
    for (const op of ops) {
      const before = encoded.length;
      switch (op.op) {
        case 'set':
          encoded.push(['s', index(op.key), op.value, ...ttlArg(op.ttlMs)]);
          break;
        case 'setIfNewer':
          encoded.push([
            'v',
            index(op.key),
            op.value,
            String(op.version),
            index(versionKey(op.key)),
            ...ttlArg(op.ttlMs),
          ]);
          break;
        case 'del':
          encoded.push(['d', index(op.key)]);
          break;
        case 'hset': {
          const flat = Object.entries(op.fields).flat();
          if (flat.length > 0) encoded.push(['h', index(op.key), flat]);
          break;
        }
        case 'hdel':
          if (op.fields.length > 0) encoded.push(['x', index(op.key), op.fields]);
          break;
        case 'sadd':
          if (op.members.length > 0) encoded.push(['a', index(op.key), op.members]);
          break;
        case 'srem':
          if (op.members.length > 0) encoded.push(['r', index(op.key), op.members]);
          break;
        case 'expire':
          encoded.push(['e', index(op.key), String(validTtl(op.ttlMs))]);
          break;
        case 'indexPut':
          encoded.push([
            'I',
            index(op.key),
            index(indexValuesKey(op.key)),
            op.id,
            op.value.replaceAll('\u0000', ''),
          ]);
          break;
        case 'indexDelete':
          encoded.push(['J', index(op.key), index(indexValuesKey(op.key)), op.id]);
          break;
      }
      if (encoded.length > before) sources.push(op);
    }
    const spec = JSON.stringify({
      ...(position ? { g: [index(position.key), position.offset.toString()] } : {}),
      ...(guard ? { k: [index(guard.key), guard.value] } : {}),
      o: encoded,
    });
    if (keys.length === 0) return true;
    const reply = await this.durable('writeBatch', ops[0]?.key ?? position?.key ?? guard!.key, () =>
      this.redis.writeBatch(keys.length, ...keys, spec),
    );
    if (Array.isArray(reply)) {
      if (reply[0] === 0) throw new GuardFailedError(guard!.key, (reply[2] as string) || null);
      throw mapError(new Error(reply[1]), sources[reply[0] - 1]!.key);
    }
    return reply === 1;
  }

  async *scan(prefix: string): AsyncIterable<string[]> {
    const match = `${escapeGlob(this.prefix + prefix)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.call('scan', prefix, () =>
        this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000),
      );
      cursor = next;
      if (keys.length > 0) yield keys.map((key) => key.slice(this.prefix.length));
    } while (cursor !== '0');
  }

  async dump(prefix: string): Promise<DumpedKey[]> {
    const all: string[] = [];
    for await (const batch of this.scan(prefix)) all.push(...batch);
    all.sort();
    const dumped: DumpedKey[] = [];
    for (let i = 0; i < all.length; i += 500) {
      const batch = all.slice(i, i + 500);
      const types = await this.call('pipeline', prefix, () => {
        const pipeline = this.redis.pipeline();
        for (const key of batch) pipeline.type(this.k(key)).pttl(this.k(key));
        return pipeline.exec();
      });
      const reads = this.redis.pipeline();
      batch.forEach((key, index) => {
        const type = types![index * 2]![1];
        if (type === 'hash') reads.hgetall(this.k(key));
        else if (type === 'set') reads.smembers(this.k(key));
        else if (type === 'zset') reads.zrange(this.k(key), '0', '-1');
        else reads.get(this.k(key));
      });
      const values = await this.call('pipeline', prefix, () => reads.exec());
      batch.forEach((key, index) => {
        const type = types![index * 2]![1] as string;
        const expires = (types![index * 2 + 1]![1] as number) >= 0;
        const value = values![index]![1];
        if (type === 'none' || value === null) return; // expired or deleted meanwhile
        if (type === 'hash') {
          const record = value as Record<string, string>;
          const sorted = Object.fromEntries(
            Object.keys(record)
              .sort()
              .map((field) => [field, record[field]!]),
          );
          dumped.push({ key, type: 'hash', value: sorted, expires });
        } else if (type === 'zset')
          dumped.push({ key, type: 'zset', value: value as string[], expires });
        else if (type === 'set')
          dumped.push({ key, type: 'set', value: [...(value as string[])].sort(), expires });
        else dumped.push({ key, type: 'string', value: value as string, expires });
      });
    }
    return dumped;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) {
      deleted += await this.durable('unlink', prefix, () =>
        this.redis.unlink(...keys.map((key) => this.k(key))),
      );
    }
    return deleted;
  }

  /**
   * One PING, for readiness and the check at start: the round trip in ms, or a
   * ProjectionStoreUnavailableError saying why not (the connection's own error when it has one,
   * rather than ioredis's "max retries per request").
   */
  async ping(): Promise<number> {
    const started = performance.now();
    try {
      await this.call('ping', '', () => this.redis.ping());
    } catch (error) {
      if (this.lastConnectionError === undefined) throw error;
      throw new ProjectionStoreUnavailableError(`Redis: ${this.lastConnectionError}`);
    }
    return Math.round((performance.now() - started) * 100) / 100;
  }

  /** Quits politely, or drops the connection when Redis does not answer within the bound. */
  async close(): Promise<void> {
    clearInterval(this.replicaProbe);
    await this.call('quit', '', () => this.redis.quit()).catch(() => this.redis.disconnect());
  }

  /**
   * Calls `listener` each time the connection is ready again after it was lost (with Sentinel,
   * possibly on a new primary that lacks what the old one had not replicated). Returns its removal.
   */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * A write, then (with replicas to wait for) WAIT in the same round trip: answered once that many
   * replicas hold it, else ProjectionStoreUnavailableError. The write itself may stand on the
   * primary then; the caller hears "unavailable", as after any timeout, and must not count on it.
   */
  private durable<T>(name: string, key: string, write: () => Promise<T>): Promise<T> {
    const wanted = Math.min(this.waitReplicas, this.connectedReplicas ?? this.waitReplicas);
    if (wanted === 0) return this.call(name, key, write);
    return this.call(name, key, async () => {
      const written = write();
      const confirmed = this.confirmation();
      const [result, replicas] = await Promise.all([written, confirmed]);
      if (replicas < wanted) {
        this.probeReplicas(); // a replica gone: known before the next second's probe
        throw new Error(
          `write confirmed by ${replicas} of ${wanted} replica(s) within ${this.waitTimeoutMs} ms`,
        );
      }
      return result;
    });
  }

  /**
   * The replicas that have the writes sent so far on this connection: one WAIT for all the writes
   * of a tick, sent right behind them (so in the same round trip), and never two at once. A WAIT
   * blocks the connection until it returns, and with a replica gone each one lasts its whole
   * timeout: one per write would pile up behind each other, and every read behind them.
   */
  private confirmation(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.unconfirmed.push({ connection: this.connection, resolve, reject });
      this.scheduleWait();
    });
  }

  private scheduleWait(): void {
    if (this.waitInFlight || this.waitScheduled) return;
    this.waitScheduled = true;
    // After the tick's writes: auto-pipelining flushes them in a nextTick queued before this one.
    process.nextTick(() => {
      this.waitScheduled = false;
      const batch = this.unconfirmed.splice(0);
      if (batch.length === 0) return;
      const connection = this.connection;
      const wanted = Math.max(
        1,
        Math.min(this.waitReplicas, this.connectedReplicas ?? this.waitReplicas),
      );
      this.waitInFlight = true;
      this.redis
        .wait(wanted, this.waitTimeoutMs)
        .then(
          (replicas) => {
            // Sent on a connection since closed: this WAIT says nothing of it.
            for (const write of batch)
              if (write.connection !== connection) write.reject(new Error('connection lost'));
              else write.resolve(replicas);
          },
          (error) => {
            for (const write of batch) write.reject(error);
          },
        )
        .finally(() => {
          this.waitInFlight = false;
          if (this.unconfirmed.length > 0) this.scheduleWait();
        });
    });
  }

  /** Asks the primary (ROLE) how many replicas it has connected now. */
  private probeReplicas(): void {
    (this.redis.call('ROLE') as Promise<unknown[]>).then(
      (role) => {
        if (role[0] === 'master' && Array.isArray(role[2])) this.connectedReplicas = role[2].length;
      },
      () => {
        // Not connected: the next connection asks again.
      },
    );
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  /**
   * One round trip, bounded by the command timeout, timed by `name` (the Redis command, or the
   * store's script) in gatehouse_redis_command_duration_seconds.
   */
  private async call<T>(name: string, key: string, command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const start = performance.now();
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Command timed out after ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      throw mapError(error, key);
    } finally {
      clearTimeout(timer);
      commandDuration(name).observe((performance.now() - start) / 1000);
    }
  }
}

function mapError(error: unknown, key: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('WRONGTYPE')) return new WrongTypeError(key);
  if (error instanceof RangeError) return error;
  return new ProjectionStoreUnavailableError(`Redis: ${message}`);
}

/** An index range as the read script's argument: limit, min's length in bytes, min, max. */
function rangeArg(min: IndexBound | null, max: IndexBound | null, limit: number): string {
  const lo = min ? `${min.inclusive ? '[' : '('}${min.member}` : '-';
  const hi = max ? `${max.inclusive ? '[' : '('}${max.member}` : '+';
  return `${Math.max(0, Math.floor(limit))} ${Buffer.byteLength(lo)}:${lo}${hi}`;
}

/** A TTL as the write script's optional last argument. */
function ttlArg(ttlMs: number | undefined): string[] {
  return ttlMs === undefined ? [] : [String(validTtl(ttlMs))];
}

function ttlOf(options: TtlOption | undefined): number | undefined {
  return options?.ttlMs === undefined ? undefined : validTtl(options.ttlMs);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

const commandSeries = new Map<string, { observe(seconds: number): void }>();

/** The histogram child of one command name (a fixed set: the store's methods name them). */
function commandDuration(name: string): { observe(seconds: number): void } {
  let child = commandSeries.get(name);
  if (!child) {
    child = processMetrics().redisCommandDuration.labels({ command: name });
    commandSeries.set(name, child);
  }
  return child;
}
