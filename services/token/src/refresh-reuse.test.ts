import { embeddedStack } from '@gatehouse/test-stacks';
import { describeRefreshReuse } from './testing/refresh-reuse-suite.js';

describeRefreshReuse(embeddedStack);
