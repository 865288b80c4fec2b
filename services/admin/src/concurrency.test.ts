import { embeddedStack } from '@gatehouse/test-stacks';
import { describeConcurrency } from './testing/concurrency-suite.js';

describeConcurrency(embeddedStack);
