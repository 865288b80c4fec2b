// The collections given events: the directory projection's index writes, then pages read from them.
import { UserStatus } from '@gatehouse/contracts';
import { newEnvelope } from '@gatehouse/events';
import { MemoryProjectionStore, type ProjectionStore } from '@gatehouse/projection-store';
import { describe, expect, it } from 'vitest';
import { type DirectoryEvent, encodeDirectoryEvent } from '../events.js';
import { projectDirectoryEvent } from '../projection.js';
import { keys } from '../read-model.js';
import { listUsers } from './collections.js';

const tenant = 'acme';
let clock = Date.parse('2026-01-01T00:00:00Z');
function envelope(aggregateId: string, event: DirectoryEvent) {
  clock += 1000;
  return newEnvelope(
    { type: event.type, tenant, aggregateId, data: encodeDirectoryEvent(event) },
    { now: () => new Date(clock) },
  );
}
const created = (id: string, login: string, firstName: string, lastName: string) =>
  envelope(id, {
    type: 'gatehouse.events.v1.UserCreated',
    data: {
      profile: { login, email: login, firstName, lastName },
      passwordHash: '',
      status: UserStatus.USER_STATUS_ACTIVE,
    },
  });

async function given(events: ReturnType<typeof envelope>[]): Promise<ProjectionStore> {
  const store = new MemoryProjectionStore();
  for (const e of events) await store.write(projectDirectoryEvent(e));
  return store;
}

const index = async (store: ProjectionStore, attribute: string) =>
  (
    await store.read([
      {
        op: 'indexRange',
        key: keys.userIndex(tenant, attribute),
        min: null,
        max: null,
        limit: 100,
      },
    ])
  )[0].map((member) => member.replace('\u0000', '|'));

describe('collections: the user indexes the directory projection keeps', () => {
  it('indexes a created user by every indexed attribute, text folded to lower case', async () => {
    const store = await given([created('00u1', 'Ada@Example.com', 'Ada', 'Lovelace')]);
    expect(await index(store, 'id')).toEqual(['00u1|00u1']);
    expect(await index(store, 'status')).toEqual(['ACTIVE|00u1']);
    expect(await index(store, 'profile.login')).toEqual(['ada@example.com|00u1']);
    expect(await index(store, 'profile.lastName')).toEqual(['lovelace|00u1']);
    expect(await index(store, 'created')).toEqual([expect.stringMatching(/^2026-.*Z\|00u1$/)]);
  });

  it('moves a user in the indexes on profile, status and password changes, and drops it on deletion', async () => {
    const store = await given([
      created('00u1', 'ada@example.com', 'Ada', 'Lovelace'),
      created('00u2', 'grace@example.com', 'Grace', 'Hopper'),
      envelope('00u1', { type: 'gatehouse.events.v1.UserSuspended', data: {} }),
      envelope('00u2', {
        type: 'gatehouse.events.v1.UserProfileUpdated',
        data: {
          profile: {
            login: 'grace@example.com',
            email: 'g@x.org',
            firstName: 'Grace',
            lastName: 'Brewster',
          },
          previousLogin: '',
        },
      }),
    ]);
    expect(await index(store, 'status')).toEqual(['ACTIVE|00u2', 'SUSPENDED|00u1']);
    expect(await index(store, 'profile.lastName')).toEqual(['brewster|00u2', 'lovelace|00u1']);
    expect(await index(store, 'profile.email')).toEqual(['ada@example.com|00u1', 'g@x.org|00u2']);
    const suspended = await listUsers(store, tenant, {
      filter: 'status eq "SUSPENDED"',
      limit: 10,
    });
    expect(suspended.items.map((u) => u.id)).toEqual(['00u1']);
    for (const e of [
      envelope('00u1', {
        type: 'gatehouse.events.v1.UserDeleted',
        data: { login: 'ada@example.com' },
      }),
    ])
      await store.write(projectDirectoryEvent(e));
    expect(await index(store, 'status')).toEqual(['ACTIVE|00u2']);
    expect(await index(store, 'id')).toEqual(['00u2|00u2']);
    expect(
      await store.read([{ op: 'exists', key: `${keys.userIndex(tenant, 'status')}#values` }]),
    ).toEqual([true]);
  });

  it('reads a page with about limit index entries whatever the tenant size', async () => {
    const reads = async (users: number) => {
      const events = Array.from({ length: users }, (_, i) =>
        created(
          `00u${String(i).padStart(6, '0')}`,
          `user${i}@example.com`,
          i % 2 ? 'Ada' : 'Bob',
          `L${i}`,
        ),
      );
      const store = await given(events);
      let entries = 0;
      const counting: ProjectionStore = Object.create(store);
      counting.read = (async (queries: { op: string; limit?: number }[]) => {
        const result = await store.read(queries as never);
        for (const q of queries) if (q.op === 'hgetall') entries++;
        return result;
      }) as never;
      const page = await listUsers(counting, tenant, { q: 'ada', limit: 10 });
      expect(page.items).toHaveLength(10);
      expect(page.next).toBeDefined();
      return entries;
    };
    const small = await reads(200);
    const large = await reads(5000);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(60);
  });
});
