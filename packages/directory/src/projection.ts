// The directory projection: every directory event to its read-model writes.
import type { Envelope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { decodeDirectoryEvent } from './events.js';
import { projectTenantEvent } from './tenants/projection.js';

export function projectDirectoryEvent(envelope: Envelope): WriteOp[] {
  const event = decodeDirectoryEvent(envelope);
  if (!event) return []; // a type this version does not know: skipped, as SPEC section 7 allows
  switch (event.type) {
    case 'gatehouse.events.v1.TenantCreated':
    case 'gatehouse.events.v1.TenantDeactivated':
      return projectTenantEvent(envelope, event);
  }
}
