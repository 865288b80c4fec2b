import { describeClientApi } from './testing/client-api-suite.js';
import { embeddedStack } from './testing/stacks.js';

describeClientApi(embeddedStack);
