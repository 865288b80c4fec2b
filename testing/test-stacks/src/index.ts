// What service suites run on: the two compositions of an event bus and a projection store
// (stacks.ts), the OAuth backbone over them, and fixtures that put directory and key state on them.
export { directoryFixtures, fixturePassword } from './directory-fixtures.js';
export { appendDirectoryEvents, customScopeCreated, provisionServerKeys } from './fixtures.js';
export {
  oauthProjections,
  startOAuthBackbone,
  testTenancy,
} from './oauth-backbone.js';
export { embeddedStack, kafkaRedisStack, loseStore, type TestStack } from './stacks.js';
