// The one shape of a write (STYLE convention 9, SPEC section 1): read the states of the streams the
// command depends on, decide with the pure decider, append the events with the version of every
// stream read, wait for the projector's verdict, and decide again on fresh state when another command
// got there first. A caller sees 2xx only for a change that is in the read models; a 409 only when
// every attempt lost its race.
import { type EventBus, EventBusUnavailableError, type EventPosition } from '@gatehouse/event-bus';
import { newEnvelope, uuidv7 } from '@gatehouse/events';
import { type ProjectionStore, ProjectionStoreUnavailableError } from '@gatehouse/projection-store';
import { ProjectionsBehindError, waitForProjections } from './read-your-writes.js';
import { commandOutcomeKey, decodeSnapshot, streamKey } from './write-models.js';

/** One event a command appends. */
export interface CommandEvent {
  aggregateId: string;
  /** Fully qualified protobuf message name of `data`. */
  type: string;
  data: Uint8Array;
}

/** What a command decided: its events (none: nothing to change) and what it answers. */
export interface Decision<T> {
  events: readonly CommandEvent[];
  result: T;
}

/** The streams a command reads, each read once per attempt; their versions go with its events. */
export class CommandReads {
  private readonly read = new Map<string, { version: number; state: unknown }>();

  constructor(
    private readonly store: ProjectionStore,
    readonly tenant: string,
  ) {}

  /** The states of `streams` (undefined for a stream without events), in one round trip. */
  async states(streams: readonly string[]): Promise<unknown[]> {
    const missing = [...new Set(streams.filter((stream) => !this.read.has(stream)))];
    if (missing.length > 0) {
      const values = await this.store.mget(missing.map((s) => streamKey(this.tenant, s)));
      missing.forEach((stream, i) => {
        this.read.set(stream, decodeSnapshot(values[i]));
      });
    }
    return streams.map((stream) => this.read.get(stream)!.state);
  }

  async state(stream: string): Promise<unknown> {
    return (await this.states([stream]))[0];
  }

  /** Every stream read so far, with its version then. */
  versions(): { stream: string; version: number }[] {
    return [...this.read].map(([stream, { version }]) => ({ stream, version }));
  }
}

/** Every attempt of the command lost to a concurrent one. */
export class CommandConflictError extends Error {
  override readonly name = 'CommandConflictError';
}

/**
 * The event log did not acknowledge the events in time. `mayHaveBeenAppended`: a request carrying
 * them may have reached the log, and the change then applies unless a concurrent one came first;
 * false: nothing was appended, and nothing will be.
 */
export class CommandNotAppendedError extends Error {
  override readonly name = 'CommandNotAppendedError';
  constructor(
    message: string,
    readonly mayHaveBeenAppended: boolean,
    options?: ErrorOptions & CommandRef,
  ) {
    super(message, options);
    this.command = options?.command;
  }
  /** The attempt whose events may have been appended: its verdict, once there is one, says. */
  readonly command?: CommandRef['command'];
}

/** Names a command's attempt: its verdict is under commandOutcomeKey(tenant, commandId). */
export interface CommandRef {
  command?: { tenant: string; commandId: string };
}

/**
 * The events were appended but the projector has not decided on them in time: the change may still
 * apply, or be refused if a concurrent change came first.
 */
export class CommandOutcomeUnknownError extends Error {
  override readonly name = 'CommandOutcomeUnknownError';
  constructor(message: string, options?: ErrorOptions & CommandRef) {
    super(message, options);
    this.command = options?.command;
  }
  /** The attempt whose verdict is not known yet. */
  readonly command?: CommandRef['command'];
}

export interface CommandHandlerOptions {
  bus: EventBus;
  store: ProjectionStore;
  /** The topic the commands' events go to; one topic keeps a tenant's commands in one order. */
  topic: string;
  /** Longest wait for the projector's verdict on one attempt. */
  readYourWritesMs: number;
  /** Attempts before a command answers a conflict. Default 10. */
  maxAttempts?: number;
  now?: () => Date;
  /** Told about every attempt that lost a race, and every command that ran out of attempts. */
  log?: (entry: { level: 'info' | 'warn'; message: string; [key: string]: unknown }) => void;
}

/** Counts since the handler was made, for benchmarks and operators. */
export interface CommandStats {
  commands: number;
  /** Attempts refused because another command changed a stream first, then decided again. */
  retries: number;
  /** Commands that ran out of attempts (409). */
  conflicts: number;
}

export class CommandHandler {
  readonly stats: CommandStats = { commands: 0, retries: 0, conflicts: 0 };
  /** Commands on one lock key run one after another in this process: they would only race. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: CommandHandlerOptions) {}

  /**
   * Runs `decide` until its events are admitted. `decide` reads streams through `reads` and must be
   * pure apart from that (it runs again on every attempt). `lock` names what the command changes,
   * so that this process runs such commands one at a time; other processes race through the log.
   */
  handle<T>(
    tenant: string,
    causationId: string,
    decide: (reads: CommandReads) => Promise<Decision<T>>,
    lock?: string,
  ): Promise<T> {
    if (lock === undefined) return this.attempt(tenant, causationId, decide);
    const key = `${tenant}/${lock}`;
    const run = (this.queues.get(key) ?? Promise.resolve()).then(
      () => this.attempt(tenant, causationId, decide),
      () => this.attempt(tenant, causationId, decide),
    );
    const settled = run.catch(() => {});
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }

  private async attempt<T>(
    tenant: string,
    causationId: string,
    decide: (reads: CommandReads) => Promise<Decision<T>>,
  ): Promise<T> {
    const { bus, store, topic } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 10;
    this.stats.commands += 1;
    for (let attempt = 1; ; attempt++) {
      const reads = new CommandReads(store, tenant);
      const { events, result } = await decide(reads);
      if (events.length === 0) return result;
      const commandId = uuidv7();
      const expectedVersions = reads.versions();
      // The expectations mark a command's first event (and tell a copy of it from its followers).
      if (expectedVersions.length === 0)
        throw new Error('a command must decide on at least one stream it read');
      const envelopes = events.map((event, i) =>
        newEnvelope(
          {
            type: event.type,
            tenant,
            aggregateId: event.aggregateId,
            data: event.data,
            causationId,
            commandId,
            ...(i === 0 ? { expectedVersions } : {}),
          },
          { now: this.options.now },
        ),
      );
      let positions: EventPosition[];
      try {
        positions = await bus.publish(topic, envelopes);
      } catch (error) {
        if (error instanceof EventBusUnavailableError)
          throw new CommandNotAppendedError(error.message, error.mayHaveBeenAppended, {
            cause: error,
            command: { tenant, commandId },
          });
        throw error;
      }
      let outcome: string | null;
      try {
        await waitForProjections(store, positions, { timeoutMs: this.options.readYourWritesMs });
        outcome = await store.get(commandOutcomeKey(tenant, commandId));
      } catch (error) {
        // Appended: whatever stops the wait, the change applies unless a concurrent one came first.
        if (
          error instanceof ProjectionsBehindError ||
          error instanceof ProjectionStoreUnavailableError
        )
          throw new CommandOutcomeUnknownError(error.message, {
            cause: error,
            command: { tenant, commandId },
          });
        throw error;
      }
      if (outcome === 'applied') return result;
      if (outcome !== 'refused')
        throw new CommandOutcomeUnknownError(`no outcome recorded for command ${commandId}`, {
          command: { tenant, commandId },
        });
      const streams = expectedVersions.map((e) => e.stream);
      if (attempt >= maxAttempts) {
        this.stats.conflicts += 1;
        this.options.log?.({
          level: 'warn',
          message: 'command refused: every attempt lost to a concurrent change',
          tenant,
          causationId,
          attempts: attempt,
          streams,
        });
        throw new CommandConflictError(
          `refused after ${attempt} attempts: the same objects kept changing concurrently`,
        );
      }
      this.stats.retries += 1;
      this.options.log?.({
        level: 'info',
        message: 'command lost a race; deciding again on the new state',
        tenant,
        causationId,
        attempt,
        streams,
      });
      // A little jitter, growing with the attempts, so that racers do not meet again in step.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)),
      );
    }
  }
}
