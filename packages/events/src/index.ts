export { type Topic, Topics, allTopics } from './topics.js';
export { uuidv7, uuidv7Time } from './uuidv7.js';
export {
  decodeEnvelope,
  type EnvelopeStamps,
  encodeEnvelope,
  type NewEvent,
  newEnvelope,
} from './envelope.js';
export type { Envelope } from '@gatehouse/contracts';
