// How the authorize service appends a grant event (a consent, a code, a device authorization's
// steps): to the event's topic, before anything it stands for is written or answered; the log being
// unavailable is the caller's 503.
import { type EventBus, EventBusUnavailableError } from '@gatehouse/event-bus';
import { newEnvelope } from '@gatehouse/events';
import { encodeGrantEvent, type GrantEvent, topicOfGrantEvent } from '@gatehouse/grants';
import { TemporarilyUnavailable } from '@gatehouse/http';

export async function appendGrantEvent(
  deps: { bus: EventBus; now: () => number },
  tenant: string,
  aggregateId: string,
  causationId: string | undefined,
  event: GrantEvent,
): Promise<void> {
  try {
    await deps.bus.publish(topicOfGrantEvent(event), [
      newEnvelope(
        {
          type: event.type,
          tenant,
          aggregateId,
          data: encodeGrantEvent(event),
          ...(causationId ? { causationId } : {}),
        },
        { now: () => new Date(deps.now()) },
      ),
    ]);
  } catch (error) {
    if (error instanceof EventBusUnavailableError)
      throw new TemporarilyUnavailable('The server is temporarily unavailable; try again shortly.');
    throw error;
  }
}
