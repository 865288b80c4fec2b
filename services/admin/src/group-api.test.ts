import { describeGroupApi } from './testing/group-api-suite.js';
import { embeddedStack } from './testing/stacks.js';

describeGroupApi(embeddedStack);
