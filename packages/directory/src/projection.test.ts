// given events / then read model, on the in-memory store (the Redis one runs the same in int tests).
import { newEnvelope } from '@gatehouse/events';
import { MemoryProjectionStore } from '@gatehouse/projection-store';
import { describe, expect, it } from 'vitest';
import { type DirectoryEvent, encodeDirectoryEvent } from './events.js';
import { projectDirectoryEvent } from './projection.js';
import { keys } from './read-model.js';
import { tenantViewOf } from './tenants/projection.js';

function envelope(tenant: string, event: DirectoryEvent, at: string) {
  return newEnvelope(
    { type: event.type, tenant, aggregateId: tenant, data: encodeDirectoryEvent(event) },
    { now: () => new Date(at) },
  );
}

async function given(events: ReturnType<typeof envelope>[]) {
  const store = new MemoryProjectionStore();
  for (const e of events) await store.write(projectDirectoryEvent(e));
  return store;
}

const digest = 'b'.repeat(64);

describe('directory projection: tenants', () => {
  it('shows a created tenant, finds it by API token digest, and lists it', async () => {
    const store = await given([
      envelope(
        'acme',
        {
          type: 'gatehouse.events.v1.TenantCreated',
          data: { name: 'Acme', apiTokenSha256: digest, everyoneGroupId: '00gEVERYONE000000000' },
        },
        '2026-11-23T10:00:00Z',
      ),
    ]);
    expect(tenantViewOf(await store.hgetall(keys.tenant('acme')))).toEqual({
      id: 'acme',
      name: 'Acme',
      status: 'ACTIVE',
      created: '2026-11-23T10:00:00.000Z',
      lastUpdated: '2026-11-23T10:00:00.000Z',
    });
    expect(await store.get(keys.tenantByToken(digest))).toBe('acme');
    expect(await store.smembers(keys.tenants())).toEqual(['acme']);
    expect(await store.hgetall(keys.group('acme', '00gEVERYONE000000000'))).toMatchObject({
      type: 'BUILT_IN',
      name: 'Everyone',
    });
    expect(await store.smembers(keys.groups('acme'))).toEqual(['00gEVERYONE000000000']);
  });

  it('shows a deactivated tenant as INACTIVE, and applying an event twice changes nothing', async () => {
    const created = envelope(
      'acme',
      {
        type: 'gatehouse.events.v1.TenantCreated',
        data: { name: 'Acme', apiTokenSha256: digest, everyoneGroupId: '00gEVERYONE000000000' },
      },
      '2026-11-23T10:00:00Z',
    );
    const deactivated = envelope(
      'acme',
      { type: 'gatehouse.events.v1.TenantDeactivated', data: {} },
      '2026-11-23T11:00:00Z',
    );
    const once = await given([created, deactivated]);
    const twice = await given([created, deactivated, deactivated]);
    expect(await once.hgetall(keys.tenant('acme'))).toEqual(
      await twice.hgetall(keys.tenant('acme')),
    );
    expect(tenantViewOf(await once.hgetall(keys.tenant('acme')))?.status).toBe('INACTIVE');
  });

  it('skips event types it does not know', () => {
    const unknown = newEnvelope({
      type: 'gatehouse.events.v9.Future',
      tenant: 'acme',
      aggregateId: 'x',
      data: new Uint8Array([1]),
    });
    expect(projectDirectoryEvent(unknown)).toEqual([]);
  });
});
