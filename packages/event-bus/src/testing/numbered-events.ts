// Test events that carry their tenant and a sequence number, so order and loss can be checked.
import type { Envelope } from '@gatehouse/contracts';
import { newEnvelope } from '@gatehouse/events';

export const numberedEventType = 'gatehouse.testing.v1.Numbered';

export function numberedEvent(tenant: string, seq: number): Envelope {
  return newEnvelope({
    type: numberedEventType,
    tenant,
    aggregateId: `${tenant}/${seq}`,
    data: new TextEncoder().encode(JSON.stringify({ seq })),
  });
}

export function sequenceOf(envelope: Envelope): number {
  return (JSON.parse(new TextDecoder().decode(envelope.data)) as { seq: number }).seq;
}
