// The embedded event bus: Kafka's semantics on local disk, for the all-in-one mode (SPEC section 1).
// One append-only log file per topic (a single partition, so every key keeps its order) and one
// small file per consumer group with its committed offsets. One process owns a data directory at a
// time (a lock file with its PID).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Envelope } from '@gatehouse/contracts';
import { decodeEnvelope, encodeEnvelope } from '@gatehouse/events';
import { processMetrics } from '@gatehouse/metrics';
import {
  type DeliveredEvent,
  defaultMaxPublishBytes,
  type EventBus,
  EventBusUnavailableError,
  type EventHandler,
  type EventPosition,
  EventTooLargeError,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  UnknownTopicError,
} from '../port.js';
import { timedPublish } from '../publish-metrics.js';
import { AppendOnlyLog, syncDirectory } from './append-only-log.js';

export interface EmbeddedEventBusOptions {
  /** Directory of the log; created if absent. */
  dir: string;
  /** Events read per batch; a group commits its offset after each batch. Default 256. */
  batchSize?: number;
  /** Delay before a failed handler sees the event again; doubles up to 5 s. Default 100 ms. */
  retryDelayMs?: number;
  /** Told how many bytes of torn tail were cut from a topic's log when it was opened. */
  onRecovered?: (topic: string, discardedBytes: number) => void;
  /**
   * Most bytes of encoded events one publish may carry; a larger one is refused with
   * EventTooLargeError before anything is written. Default `defaultMaxPublishBytes`, Kafka's
   * default, so that what the all-in-one takes a Kafka deployment takes too.
   */
  maxPublishBytes?: number;
}

const PARTITION = 0;
/** Data directories open in this process: the lock file cannot tell two of them apart. */
const openDirectories = new Set<string>();

export class EmbeddedEventBus implements EventBus {
  private readonly groups = new Map<string, GroupState>();
  private readonly subscriptions = new Set<EmbeddedSubscription>();
  private readonly topicLogs = new Map<string, Promise<AppendOnlyLog>>();
  private closed = false;

  private constructor(
    private readonly options: Required<Omit<EmbeddedEventBusOptions, 'onRecovered'>> &
      Pick<EmbeddedEventBusOptions, 'onRecovered'>,
  ) {}

  /** Opens (or creates) the log in `dir`, taking its lock, and reopens every topic found there. */
  static async open(options: EmbeddedEventBusOptions): Promise<EmbeddedEventBus> {
    const bus = new EmbeddedEventBus({
      batchSize: 256,
      retryDelayMs: 100,
      maxPublishBytes: defaultMaxPublishBytes,
      ...options,
    });
    // The log is the system of record (password hashes, sealed signing keys): the owner's alone,
    // whatever the umask, and a directory made earlier with looser modes is tightened.
    await mkdir(join(options.dir, 'topics'), { recursive: true, mode: 0o700 });
    await mkdir(join(options.dir, 'groups'), { recursive: true, mode: 0o700 });
    await tightenModes(options.dir);
    const dir = resolve(options.dir);
    if (openDirectories.has(dir))
      throw new Error(`event log ${dir} is already open in this process`);
    await acquireLock(join(dir, 'LOCK'));
    openDirectories.add(dir);
    return bus;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const topic of topics) await this.log(topic.name, true);
  }

  publish(topic: string, envelopes: readonly Envelope[]): Promise<EventPosition[]> {
    return timedPublish(topic, () => this.append(topic, envelopes));
  }

  private async append(topic: string, envelopes: readonly Envelope[]): Promise<EventPosition[]> {
    this.assertOpen();
    if (envelopes.length === 0) return [];
    const log = await this.log(topic, false);
    const records = envelopes.map(encodeEnvelope);
    const bytes = records.reduce((sum, record) => sum + record.byteLength, 0);
    // Refused before it joins a batch: a batch that fails fails every publish in it.
    if (bytes > this.options.maxPublishBytes)
      throw new EventTooLargeError(topic, bytes, this.options.maxPublishBytes);
    const first = await log.append(records).catch((error: unknown) => {
      throw new EventBusUnavailableError(`append to ${topic} failed: ${String(error)}`);
    });
    return envelopes.map((_, index) => ({
      topic,
      partition: PARTITION,
      offset: BigInt(first + index),
    }));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    // An ephemeral group is the subscription's alone and leaves no file behind.
    const group = options.ephemeral
      ? new GroupState(undefined, new Map())
      : await this.group(options.groupId);
    const logs = new Map<string, AppendOnlyLog>();
    for (const topic of options.topics) logs.set(topic, await this.log(topic, false));
    const subscription = new EmbeddedSubscription(options, group, logs, this.options, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async replay(topic: string, handler: EventHandler): Promise<ReplayResult> {
    this.assertOpen();
    const log = await this.log(topic, false);
    const end = log.length;
    let offset = 0;
    while (offset < end) {
      const records = await log.read(offset, Math.min(this.options.batchSize, end - offset));
      for (const record of records) {
        await handler({
          topic,
          partition: PARTITION,
          offset: BigInt(offset),
          envelope: decodeEnvelope(record),
        });
        offset += 1;
      }
    }
    return { events: end };
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    this.assertOpen();
    const log = await this.log(topic, false);
    return new Map([[PARTITION, BigInt(log.length)]]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await Promise.all(
      [...this.topicLogs.values()].map((log) =>
        log.then(
          (l) => l.close(),
          () => {},
        ),
      ),
    );
    await rm(join(this.options.dir, 'LOCK'), { force: true });
    openDirectories.delete(resolve(this.options.dir));
  }

  private assertOpen(): void {
    if (this.closed)
      throw new EventBusUnavailableError('event bus is closed', { mayHaveBeenAppended: false });
  }

  private log(topic: string, create: boolean): Promise<AppendOnlyLog> {
    if (!/^[A-Za-z0-9._-]{1,200}$/.test(topic)) {
      return Promise.reject(new RangeError(`invalid topic name ${JSON.stringify(topic)}`));
    }
    let pending = this.topicLogs.get(topic);
    if (!pending) {
      const path = join(this.options.dir, 'topics', `${topic}.log`);
      pending = (async () => {
        if (!create && !(await exists(path))) throw new UnknownTopicError(topic);
        const { log, discardedBytes } = await AppendOnlyLog.open(path, {
          onBatch: (records) => processMetrics().eventPublishBatchEvents.observe(records),
        });
        if (discardedBytes > 0) this.options.onRecovered?.(topic, discardedBytes);
        return log;
      })();
      this.topicLogs.set(topic, pending);
      pending.catch(() => this.topicLogs.delete(topic));
    }
    return pending;
  }

  private async group(groupId: string): Promise<GroupState> {
    let group = this.groups.get(groupId);
    if (!group) {
      const path = join(this.options.dir, 'groups', `${encodeURIComponent(groupId)}.json`);
      const committed = await readFile(path, 'utf8').then(
        (text) => new Map(Object.entries(JSON.parse(text) as Record<string, number>)),
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return new Map<string, number>();
          throw error;
        },
      );
      group = this.groups.get(groupId) ?? new GroupState(path, committed);
      this.groups.set(groupId, group);
    }
    return group;
  }
}

/** Committed offsets of one consumer group and which member consumes each topic. */
class GroupState {
  /** Per topic, the members subscribed to it, in joining order; the first one consumes. */
  private readonly members = new Map<string, EmbeddedSubscription[]>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** Where its offsets are kept; undefined: in memory only (an ephemeral group). */
    private readonly path: string | undefined,
    private readonly committed: Map<string, number>,
  ) {}

  committedOffset(topic: string): number | undefined {
    return this.committed.get(topic);
  }

  join(topic: string, member: EmbeddedSubscription): void {
    const list = this.members.get(topic) ?? [];
    list.push(member);
    this.members.set(topic, list);
  }

  leave(topic: string, member: EmbeddedSubscription): void {
    const list = (this.members.get(topic) ?? []).filter((m) => m !== member);
    this.members.set(topic, list);
    list[0]?.wake();
  }

  isActive(topic: string, member: EmbeddedSubscription): boolean {
    return this.members.get(topic)?.[0] === member;
  }

  /** Durably records `offset` as the next one to consume: write, fsync, rename. */
  commit(topic: string, offset: number): Promise<void> {
    this.committed.set(topic, offset);
    const path = this.path;
    if (path === undefined) return this.writing;
    const snapshot = JSON.stringify(Object.fromEntries(this.committed));
    this.writing = this.writing.then(async () => {
      const temporary = `${path}.${randomUUID()}.tmp`;
      const fd = await open(temporary, 'w', 0o600);
      try {
        await fd.writeFile(snapshot);
        await fd.sync();
      } finally {
        await fd.close();
      }
      await rename(temporary, path);
    });
    return this.writing;
  }
}

class EmbeddedSubscription implements Subscription {
  private closed = false;
  /** One waiting loop per topic; any append or hand-over wakes them all to look again. */
  private readonly waiting = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly unlisten: (() => void)[] = [];

  constructor(
    private readonly options: SubscribeOptions,
    private readonly group: GroupState,
    private readonly logs: Map<string, AppendOnlyLog>,
    private readonly config: { batchSize: number; retryDelayMs: number },
    private readonly onClosed: () => void,
  ) {}

  start(): void {
    for (const [topic, log] of this.logs) {
      this.group.join(topic, this);
      this.unlisten.push(log.onAppend(() => this.wake()));
      const startAt = this.options.start === 'latest' || this.options.ephemeral ? log.length : 0;
      this.loops.push(this.consume(topic, log, startAt));
    }
  }

  wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resume of waiting) resume();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unlisten of this.unlisten) unlisten();
    this.wake();
    await Promise.all(this.loops);
    for (const topic of this.logs.keys()) this.group.leave(topic, this);
    this.onClosed();
  }

  private async consume(topic: string, log: AppendOnlyLog, startAt: number): Promise<void> {
    while (!this.closed) {
      const offset = this.group.committedOffset(topic) ?? startAt;
      if (!this.group.isActive(topic, this) || offset >= log.length) {
        await new Promise<void>((resolve) => {
          this.waiting.add(resolve);
          // An append or a member leaving may have happened between the check and here.
          const ready =
            this.group.isActive(topic, this) &&
            (this.group.committedOffset(topic) ?? startAt) < log.length;
          if (this.closed || ready) this.wake();
        });
        continue;
      }
      const records = await log.read(offset, this.config.batchSize);
      let next = offset;
      for (const record of records) {
        if (this.closed) break;
        const event: DeliveredEvent = {
          topic,
          partition: PARTITION,
          offset: BigInt(next),
          envelope: decodeEnvelope(record),
        };
        if (!(await this.handleWithRetry(event))) break;
        next += 1;
      }
      if (next > offset) await this.group.commit(topic, next);
    }
  }

  /** Runs the handler until it succeeds (true) or the subscription closes first (false). */
  private async handleWithRetry(event: DeliveredEvent): Promise<boolean> {
    let delay = this.config.retryDelayMs;
    for (;;) {
      try {
        await this.options.handler(event);
        return true;
      } catch (error) {
        this.options.onError?.(error, event);
        if (this.closed) return false;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5000);
        if (this.closed) return false;
      }
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return open(path, 'r').then(
    async (fd) => {
      await fd.close();
      return true;
    },
    () => false,
  );
}

/** Takes the data directory's lock, or fails naming the live process that holds it. */
async function acquireLock(path: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      await syncDirectory(join(path, '..'));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new Error(`event log ${join(path, '..')} is in use by process ${holder}`);
      }
      await rm(path, { force: true }); // left behind by a process that is gone
    }
  }
  throw new Error(`could not lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process that nobody has reaped yet (a zombie: under an init that does not reap, as in
  // a container without one, it stays) still answers signal 0, but holds nothing any more.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/{pid}/stat: "pid (comm) state ...", comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Directories 0700 and files 0600 under `dir`, `dir` included (see EmbeddedEventBus.open). */
export async function tightenModes(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await tightenModes(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}
