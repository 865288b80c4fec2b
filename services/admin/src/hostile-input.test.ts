import { describeHostileInput } from './testing/hostile-input-suite.js';
import { embeddedStack } from './testing/stacks.js';

describeHostileInput(embeddedStack);
