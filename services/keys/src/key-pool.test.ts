import { embeddedStack } from '@gatehouse/test-stacks';
import { describeKeyPool } from './testing/key-pool-suite.js';

describeKeyPool(embeddedStack);
