// A separate process for the conformance suite's crash tests: it opens an event bus from the JSON
// config in argv[2] and either publishes numbered events (printing each acknowledgement) or
// consumes as a group member (printing each event, and stalling on one so that it is never
// committed) until the test kills it.

import type { EventBusConfig } from '../open.js';
import { openEventBus } from '../open.js';
import { numberedEvent, sequenceOf } from './numbered-events.js';

type WorkerTask =
  | {
      mode: 'publish';
      config: EventBusConfig;
      topic: string;
      count: number;
      tenants: number;
      pauseMs: number;
    }
  | { mode: 'consume'; config: EventBusConfig; topic: string; groupId: string; stallAt: number };

const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
const say = (line: string) => process.stdout.write(`${line}\n`);
const bus = await openEventBus(task.config);

if (task.mode === 'publish') {
  for (let seq = 0; seq < task.count; seq += 1) {
    const event = numberedEvent(`tenant-${seq % task.tenants}`, seq);
    try {
      const [position] = await bus.publish(task.topic, [event]);
      say(`ack ${seq} ${position!.partition}:${position!.offset}`);
    } catch (error) {
      say(`fail ${seq} ${String(error).replaceAll('\n', ' ')}`);
    }
    if (task.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, task.pauseMs));
  }
  await bus.close();
  say('done');
} else {
  await bus.subscribe({
    groupId: task.groupId,
    topics: [task.topic],
    handler: async (event) => {
      const seq = sequenceOf(event.envelope);
      say(`got ${seq}`);
      if (seq === task.stallAt) {
        say(`stalled ${seq}`);
        await new Promise(() => {}); // never resolves: this event is never committed
      }
    },
  });
  say('joined');
}
