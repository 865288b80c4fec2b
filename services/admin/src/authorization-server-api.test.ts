import { describeAuthorizationServerApi } from './testing/authorization-server-api-suite.js';
import { embeddedStack } from './testing/stacks.js';

describeAuthorizationServerApi(embeddedStack);
