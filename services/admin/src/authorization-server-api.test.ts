import { embeddedStack } from '@gatehouse/test-stacks';
import { describeAuthorizationServerApi } from './testing/authorization-server-api-suite.js';

describeAuthorizationServerApi(embeddedStack);
