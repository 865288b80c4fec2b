// Putting state on a bus the way the services would, for suites and benches that run one service
// without the others: directory changes (as the admin service appends them) and a server's first
// signing keys (as the keys service does).

import { ScopeConsent } from '@gatehouse/contracts';
import { type DirectoryEvent, encodeDirectoryEvent, newId } from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import { newEnvelope, Topics } from '@gatehouse/events';
import {
  decideServerKeys,
  encodeKeyEvent,
  generateSealedKey,
  initialServerKeysState,
  type KeyEncryptionKeys,
} from '@gatehouse/signing-keys';

/**
 * Directory events of one tenant, in order, to gatehouse.directory. Without a command: the projector
 * applies them as they come (a fixture states facts; it does not race anybody).
 */
export async function appendDirectoryEvents(
  bus: EventBus,
  tenant: string,
  changes: readonly { aggregateId: string; event: DirectoryEvent }[],
): Promise<void> {
  if (changes.length === 0) return;
  await bus.publish(
    Topics.directory,
    changes.map(({ aggregateId, event }) =>
      newEnvelope({ type: event.type, tenant, aggregateId, data: encodeDirectoryEvent(event) }),
    ),
  );
}

/** A server's first ACTIVE and NEXT keys, sealed under `keks`. */
export async function provisionServerKeys(
  bus: EventBus,
  keks: KeyEncryptionKeys,
  tenant: string,
  serverId: string,
): Promise<void> {
  const events = decideServerKeys(
    {
      kind: 'ProvisionKeys',
      active: await generateSealedKey(keks, tenant, serverId),
      next: await generateSealedKey(keks, tenant, serverId),
    },
    initialServerKeysState,
  );
  await bus.publish(
    Topics.keys,
    events.map((event) =>
      newEnvelope({
        type: event.type,
        tenant,
        aggregateId: serverId,
        data: encodeKeyEvent(event),
      }),
    ),
  );
}

/** A custom scope added to a server (IMPLICIT consent unless told), as the admin service would append it. */
export function customScopeCreated(
  serverId: string,
  name: string,
  options: {
    isDefault?: boolean;
    published?: boolean;
    description?: string;
    displayName?: string;
    consent?: ScopeConsent;
  } = {},
): { aggregateId: string; event: DirectoryEvent } {
  return {
    aggregateId: serverId,
    event: {
      type: 'gatehouse.events.v1.ScopeCreated',
      data: {
        scope: {
          id: newId('scp'),
          name,
          description: options.description ?? name,
          displayName: options.displayName ?? '',
          consent: options.consent ?? ScopeConsent.SCOPE_CONSENT_IMPLICIT,
          isDefault: options.isDefault ?? false,
          isOptional: false,
          metadataPublish: options.published ? 'ALL_CLIENTS' : 'NO_CLIENTS',
          system: false,
        },
      },
    },
  };
}
