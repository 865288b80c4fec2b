import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { describeEventBusConformance } from '../testing/conformance.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-embedded-bus-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeEventBusConformance({
  name: 'embedded',
  config: () => ({ kind: 'embedded', dir }),
  disrupt: async (publisher) => {
    // The publisher owns the log: a crash of the log is a crash of that process.
    publisher.kill('SIGKILL');
    return { publisherKilled: true };
  },
  takeoverMs: 0,
});
