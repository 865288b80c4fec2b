// The admin's write path: every change is a command (SPEC section 1) decided on the directory's write
// model and appended to gatehouse.directory with the versions it was decided on; it returns once the
// projector has admitted it and applied it, so the next call reads what this one wrote (SPEC section
// 3), and decides again when a concurrent change came first. Failures are mapped to Okta errors in
// http/domain-errors.ts.
import { type DirectoryEvent, encodeDirectoryEvent, type StreamReads } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import type { ProjectionStore } from '@gatehouse/projection-store';
import {
  CommandHandler,
  type CommandHandlerOptions,
  type CommandStats,
} from '@gatehouse/projections';

/** The events of one command, each with the aggregate it belongs to. */
export type DirectoryChanges = readonly { aggregateId: string; event: DirectoryEvent }[];

/**
 * Waits (a bounded while) until new authorization servers of a tenant have signing keys, so that a
 * creation answers once its servers can sign.
 */
export type SigningKeysWait = (tenant: string, serverIds: string[]) => Promise<void>;

export class DirectoryWriter {
  private readonly commands: CommandHandler;

  constructor(
    bus: EventBus,
    store: ProjectionStore,
    options: {
      readYourWritesMs: number;
      now?: () => Date;
      log?: CommandHandlerOptions['log'];
      maxAttempts?: number;
    },
  ) {
    this.commands = new CommandHandler({
      bus,
      store,
      topic: Topics.directory,
      readYourWritesMs: options.readYourWritesMs,
      ...(options.now ? { now: options.now } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    });
  }

  /** Retries and refusals since start. */
  get stats(): CommandStats {
    return this.commands.stats;
  }

  /**
   * Runs one command: `decide` reads the streams it depends on and returns its events (it runs again
   * after a lost race, so it must not change anything itself). `lock` names the object it changes:
   * this process runs commands on one object one at a time. Resolves once the change is applied.
   */
  async run(
    tenant: string,
    causationId: string,
    lock: string | undefined,
    decide: (reads: StreamReads) => Promise<DirectoryChanges>,
  ): Promise<void> {
    await this.commands.handle(
      tenant,
      causationId,
      async (reads) => ({
        events: (await decide(reads)).map(({ aggregateId, event }) => ({
          aggregateId,
          type: event.type,
          data: encodeDirectoryEvent(event),
        })),
        result: undefined,
      }),
      lock,
    );
  }
}

/** One aggregate's events as changes. */
export const changesOf = (
  aggregateId: string,
  events: readonly DirectoryEvent[],
): DirectoryChanges => events.map((event) => ({ aggregateId, event }));
