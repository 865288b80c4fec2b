import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Envelope } from '@gatehouse/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEventBusConformance } from '../testing/conformance.js';
import { EmbeddedEventBus } from './embedded-event-bus.js';

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

describe('embedded event log at rest', () => {
  it("keeps the log the owner's alone: directories 0700, files 0600, looser ones tightened", async () => {
    const root = await mkdtemp(join(tmpdir(), 'gatehouse-modes-'));
    const previous = process.umask(0o022);
    try {
      // A directory made earlier with loose modes, holding a loose file.
      await mkdir(join(root, 'topics'), { mode: 0o755 });
      await writeFile(join(root, 'topics', 'old'), 'x', { mode: 0o644 });
      await chmod(root, 0o755);
      const bus = await EmbeddedEventBus.open({ dir: root });
      await bus.ensureTopics([{ name: 'gatehouse.modes' }]);
      await bus.publish('gatehouse.modes', [
        Envelope.create({ id: 'e1', type: 'Test', tenant: 't', aggregateId: 'a' }),
      ]);
      await bus.close();
      const modes: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          const mode = (await stat(path)).mode & 0o777;
          modes.push(`${entry.isDirectory() ? 'd' : 'f'} ${mode.toString(8)}`);
          if (entry.isDirectory()) await walk(path);
        }
      };
      await walk(root);
      expect((await stat(root)).mode & 0o777).toBe(0o700);
      expect(modes.length).toBeGreaterThan(2);
      expect(new Set(modes.map((m) => m.replace(/^d 700$|^f 600$/, 'ok')))).toEqual(
        new Set(['ok']),
      );
    } finally {
      process.umask(previous);
      await rm(root, { recursive: true, force: true });
    }
  });
});
