// What the client suites check of a client secret the admin made: the events it appended, and that
// the sealed secret in them opens to the secret it answered.
import type { SealedClientSecret } from '@gatehouse/contracts';
import { type DirectoryEvent, decodeDirectoryEvent } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import { type KeyEncryptionKeys, openClientSecret } from '@gatehouse/signing-keys';
import { expect } from 'vitest';

/** A client's events in gatehouse.directory, decoded, in log order. */
export async function clientEvents(bus: EventBus, clientId: string): Promise<DirectoryEvent[]> {
  const events: DirectoryEvent[] = [];
  await bus.replay(Topics.directory, async ({ envelope }) => {
    if (envelope.aggregateId !== clientId) return;
    const event = decodeDirectoryEvent(envelope);
    if (event) events.push(event);
  });
  return events;
}

type DataByType = { [E in DirectoryEvent as E['type']]: E['data'] };

/** The data of an event of `type`; the test fails when the event is another or none. */
export function dataOf<T extends keyof DataByType>(
  event: DirectoryEvent | undefined,
  type: T,
): DataByType[T] {
  expect(event?.type).toBe(type);
  return event!.data as DataByType[T];
}

/** The secret a sealed one opens to under `keks`, for this client of this tenant. */
export function opened(
  sealed: SealedClientSecret | undefined,
  keks: KeyEncryptionKeys,
  tenant: string,
  clientId: string,
): string {
  if (!sealed) throw new Error('no sealed secret');
  return openClientSecret(sealed, keks, tenant, clientId).toString('utf8');
}
