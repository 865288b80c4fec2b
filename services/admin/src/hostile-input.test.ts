import { embeddedStack } from '@gatehouse/test-stacks';
import { describeHostileInput } from './testing/hostile-input-suite.js';

describeHostileInput(embeddedStack);
