// The Redis store against a server that accepts connections and never answers: every call fails
// within its bound, as ProjectionStoreUnavailableError (token checks then fail closed).
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionStoreUnavailableError } from './port.js';
import { RedisProjectionStore } from './redis-projection-store.js';

const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

beforeAll(async () => {
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  silent.close();
});

describe('RedisProjectionStore facing a Redis that never answers', () => {
  it('fails each call, a single command or a pipeline, within its bound', async () => {
    const { port } = silent.address() as { port: number };
    const store = new RedisProjectionStore({
      url: `redis://127.0.0.1:${port}`,
      commandTimeoutMs: 300,
    });
    try {
      for (const call of [
        () => store.get('a'),
        () =>
          store.read([
            { op: 'get', key: 'a' },
            { op: 'hget', key: 'b', field: 'c' },
          ]),
        () => store.write([{ op: 'set', key: 'a', value: '1' }]),
      ]) {
        const started = Date.now();
        await expect(call()).rejects.toBeInstanceOf(ProjectionStoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
    } finally {
      await store.close().catch(() => {});
    }
  });
});
