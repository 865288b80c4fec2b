import { embeddedStack } from '@gatehouse/test-stacks';
import { describeDpop } from './testing/dpop-suite.js';

describeDpop(embeddedStack);
