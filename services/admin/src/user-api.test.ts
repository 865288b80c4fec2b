import { embeddedStack } from './testing/stacks.js';
import { describeUserApi } from './testing/user-api-suite.js';

describeUserApi(embeddedStack);
