import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDirectoryEvent, keys, readClientMetadata } from '@gatehouse/directory';
import { EmbeddedEventBus } from '@gatehouse/event-bus';
import { allTopics, newEnvelope, Topics } from '@gatehouse/events';
import { GenerationalStore, MemoryProjectionStore } from '@gatehouse/projection-store';
import {
  commandOutcomeKey,
  decodeSnapshot,
  readModelVersionKey,
  streamKey,
  waitForProjections,
} from '@gatehouse/projections';
import { encodeKeyEvent, type KeyEvent } from '@gatehouse/signing-keys';
import { describe, expect, it } from 'vitest';
import { createProjector, readModelVersion } from './app.js';

describe('projector', () => {
  it('maintains the directory read models, refuses to rebuild while running, and rebuilds when stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-projector-'));
    const bus = await EmbeddedEventBus.open({ dir });
    const store = new MemoryProjectionStore();
    try {
      await bus.ensureTopics(allTopics.map((name) => ({ name })));
      const projector = createProjector({ bus, store });
      await projector.start();
      const event = {
        type: 'gatehouse.events.v1.TenantCreated',
        data: {
          name: 'Acme',
          apiTokenSha256: 'c'.repeat(64),
          everyoneGroupId: '00g0000000000000000e',
        },
      } as const;
      const positions = await bus.publish(Topics.directory, [
        newEnvelope({
          type: event.type,
          tenant: 'acme',
          aggregateId: 'acme',
          data: encodeDirectoryEvent(event),
        }),
      ]);
      await waitForProjections(store, positions, { timeoutMs: 5000 });
      expect(await store.hget(keys.tenant('acme'), 'name')).toBe('Acme');
      await expect(projector.rebuild()).rejects.toThrow('stop the projector before rebuilding');
      await projector.stop();
      const before = await store.dump('');
      await store.deleteByPrefix('');
      expect((await projector.rebuild()).events).toBe(1);
      expect(await store.dump('')).toEqual(before);
    } finally {
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('projector: read model versions', () => {
  it('marks the generations it builds with its version, and one its --rebuild builds too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-projector-'));
    const bus = await EmbeddedEventBus.open({ dir });
    const store = new GenerationalStore(new MemoryProjectionStore());
    const projector = createProjector({ bus, store });
    try {
      await bus.ensureTopics(allTopics.map((name) => ({ name })));
      await projector.start();
      expect(await store.get(readModelVersionKey)).toBe(String(readModelVersion));
      const first = await store.generations.current();
      await projector.rebuild();
      expect(await store.generations.current()).not.toBe(first);
      expect(await store.get(readModelVersionKey)).toBe(String(readModelVersion));
      // Started again, it finds its own version: no build.
      await projector.stop();
      const rebuilt = await store.generations.current();
      await projector.start();
      expect(await store.generations.current()).toBe(rebuilt);
    } finally {
      await projector.stop();
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('projector: the public streams', () => {
  it("copies each admitted command's client lifecycle event and key revocation, once, with its id", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-projector-'));
    const bus = await EmbeddedEventBus.open({ dir });
    const store = new MemoryProjectionStore();
    const projector = createProjector({ bus, store });
    try {
      await bus.ensureTopics(allTopics.map((name) => ({ name })));
      await projector.start();
      const client = '0oaAAAAAAAAAAAAAAAAA';
      const metadata = readClientMetadata({
        client_name: 'Web',
        redirect_uris: ['https://a.example/cb'],
      }).metadata!;
      const envelope = (
        event: Parameters<typeof encodeDirectoryEvent>[0],
        command?: { id: string; version: number },
      ) =>
        newEnvelope({
          type: event.type,
          tenant: 'acme',
          aggregateId: client,
          data: encodeDirectoryEvent(event),
          ...(command
            ? {
                commandId: command.id,
                expectedVersions: [{ stream: `client/${client}`, version: command.version }],
              }
            : {}),
        });
      const registered = envelope(
        {
          type: 'gatehouse.events.v1.ClientRegistered',
          data: { metadata, clientSecretSha256: 'a'.repeat(64) },
        },
        { id: 'cmd-1', version: 0 },
      );
      const deactivated = envelope(
        { type: 'gatehouse.events.v1.ClientDeactivated', data: {} },
        { id: 'cmd-2', version: 1 },
      );
      // Decided on version 1 too, so refused: it never happened, and is not copied.
      const refused = envelope(
        { type: 'gatehouse.events.v1.ClientDeleted', data: {} },
        { id: 'cmd-3', version: 1 },
      );
      const positions = await bus.publish(Topics.directory, [registered, deactivated, refused]);
      await waitForProjections(store, positions, { timeoutMs: 5000 });
      expect(await store.hget(keys.client('acme', client), 'status')).toBe('INACTIVE');
      const copied: string[] = [];
      await bus.replay(Topics.clientLifecycle, async (event) => {
        copied.push(event.envelope.id);
      });
      expect(copied).toEqual([deactivated.id]);
      const [end] = [...(await bus.endOffsets(Topics.clientLifecycle))];
      await waitForProjections(
        store,
        [{ topic: Topics.clientLifecycle, partition: end![0], offset: end![1] - 1n }],
        { timeoutMs: 5000 },
      );
      // The copy, once read back, is neither applied nor decided again (it carries its command
      // id): the client's version moved once, and the command's outcome stays the original's.
      expect(decodeSnapshot(await store.get(streamKey('acme', `client/${client}`))).version).toBe(
        2,
      );
      expect(await store.get(commandOutcomeKey('acme', 'cmd-2'))).toBe('applied');
      expect(await store.get(commandOutcomeKey('acme', 'cmd-3'))).toBe('refused');

      // A key revocation: on gatehouse.keys with the server's other key events, copied once admitted.
      const keyEvent = (event: KeyEvent, command: { id: string; version: number }) =>
        newEnvelope({
          type: event.type,
          tenant: 'acme',
          aggregateId: 'default',
          data: encodeKeyEvent(event),
          commandId: command.id,
          expectedVersions: [{ stream: 'keys/default', version: command.version }],
        });
      const revoked = keyEvent(
        { type: 'gatehouse.events.v1.SigningKeyRevoked', data: { kid: 'k1' } },
        { id: 'cmd-k2', version: 1 },
      );
      const keyPositions = await bus.publish(Topics.keys, [
        keyEvent(
          {
            type: 'gatehouse.events.v1.SigningKeyCreated',
            data: {
              kid: 'k1',
              n: 'AQAB',
              e: 'AQAB',
              privateKey: {
                kekId: 'kek-1',
                iv: Buffer.alloc(12),
                ciphertext: Buffer.alloc(8),
                tag: Buffer.alloc(16),
              },
            },
          },
          { id: 'cmd-k1', version: 0 },
        ),
        revoked,
      ]);
      await waitForProjections(store, keyPositions, { timeoutMs: 5000 });
      const revocations: string[] = [];
      await bus.replay(Topics.revocations, async (event) => {
        revocations.push(event.envelope.id);
      });
      expect(revocations).toEqual([revoked.id]);
    } finally {
      await projector.stop();
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
