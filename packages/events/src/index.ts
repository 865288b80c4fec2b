export type { Envelope } from '@gatehouse/contracts';
export {
  decodeEnvelope,
  type EnvelopeStamps,
  encodeEnvelope,
  type NewEvent,
  newEnvelope,
} from './envelope.js';
export { type EventsOf, eventCodecs, type MessageCodec } from './event-codecs.js';
export {
  allTopics,
  minGrantsRetentionDays,
  partitionKeyOf,
  type Topic,
  Topics,
  topicSpecs,
} from './topics.js';
export { uuidv7, uuidv7Time } from './uuidv7.js';
