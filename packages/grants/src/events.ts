// Grant and revocation events as typed records, and their protobuf encoding (SPEC section 7).
import {
  AuthorizationCodeIssued,
  AuthorizationCodeRedeemed,
  ConsentGranted,
  DeviceAuthorizationApproved,
  DeviceAuthorizationDenied,
  DeviceAuthorizationIssued,
  DeviceCodeRedeemed,
  type Envelope,
  GrantRevoked,
  TokenRevoked,
  TokensIssued,
} from '@gatehouse/contracts';
import { type EventsOf, eventCodecs, type MessageCodec, Topics } from '@gatehouse/events';

const codecs = {
  'gatehouse.events.v1.AuthorizationCodeIssued':
    AuthorizationCodeIssued as MessageCodec<AuthorizationCodeIssued>,
  'gatehouse.events.v1.AuthorizationCodeRedeemed':
    AuthorizationCodeRedeemed as MessageCodec<AuthorizationCodeRedeemed>,
  'gatehouse.events.v1.TokensIssued': TokensIssued as MessageCodec<TokensIssued>,
  'gatehouse.events.v1.TokenRevoked': TokenRevoked as MessageCodec<TokenRevoked>,
  'gatehouse.events.v1.GrantRevoked': GrantRevoked as MessageCodec<GrantRevoked>,
  'gatehouse.events.v1.ConsentGranted': ConsentGranted as MessageCodec<ConsentGranted>,
  'gatehouse.events.v1.DeviceAuthorizationIssued':
    DeviceAuthorizationIssued as MessageCodec<DeviceAuthorizationIssued>,
  'gatehouse.events.v1.DeviceAuthorizationApproved':
    DeviceAuthorizationApproved as MessageCodec<DeviceAuthorizationApproved>,
  'gatehouse.events.v1.DeviceAuthorizationDenied':
    DeviceAuthorizationDenied as MessageCodec<DeviceAuthorizationDenied>,
  'gatehouse.events.v1.DeviceCodeRedeemed': DeviceCodeRedeemed as MessageCodec<DeviceCodeRedeemed>,
};

export type GrantEvent = EventsOf<typeof codecs>;

const grantEvents = eventCodecs(codecs);
export const encodeGrantEvent: (event: GrantEvent) => Uint8Array = grantEvents.encode;
export const decodeGrantEvent: (envelope: Envelope) => GrantEvent | undefined = grantEvents.decode;

export function topicOfGrantEvent(event: GrantEvent): string {
  return event.type === 'gatehouse.events.v1.TokenRevoked' ||
    event.type === 'gatehouse.events.v1.GrantRevoked'
    ? Topics.revocations
    : Topics.grants;
}
