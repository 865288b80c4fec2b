import { embeddedStack } from '@gatehouse/test-stacks';
import { describeClientAssertions } from './testing/client-assertion-suite.js';

describeClientAssertions(embeddedStack);
