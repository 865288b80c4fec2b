import { randomBytes } from 'node:crypto';
import { keys } from '@gatehouse/directory';
import { MemoryProjectionStore } from '@gatehouse/projection-store';
import { describe, expect, it } from 'vitest';
import { DirectoryCache, directoryCacheBounds } from './directory-cache.js';

const tenancy = { mode: 'path', publicUrl: new URL('http://localhost:9000') } as const;
const madeUp = (prefix: string) => `${prefix}${randomBytes(9).toString('base64url')}`;

describe('DirectoryCache bounds', () => {
  it('requests naming made-up tenants, clients and servers leave it within its bounds', async () => {
    const store = new MemoryProjectionStore();
    await store.write([{ op: 'hset', key: keys.tenant('acme'), fields: { status: 'ACTIVE' } }]);
    const directory = new DirectoryCache(store, tenancy);
    const requests = 3 * directoryCacheBounds.servers.maxMisses;
    for (let i = 0; i < requests; i++) {
      expect(await directory.tenantStatus(madeUp('t-'))).toBeNull();
      expect(await directory.client('acme', madeUp('0oa'))).toBeUndefined();
      expect(await directory.server('acme', madeUp('aus'))).toBeUndefined();
      // The org server of any tenant is known without a read, and not held.
      expect((await directory.server(madeUp('t-'), 'org'))?.serverId).toBe('org');
    }
    expect(await directory.tenantStatus('acme')).toBe('ACTIVE');
    expect(directory.sizes).toEqual({
      tenants: directoryCacheBounds.tenants.maxMisses + 1,
      clients: directoryCacheBounds.clients.maxMisses,
      servers: directoryCacheBounds.servers.maxMisses,
    });
    await directory.close();
    await store.close();
  });
});
