import { embeddedStack } from '@gatehouse/test-stacks';
import { describeKeys } from './testing/keys-suite.js';

describeKeys(embeddedStack);
