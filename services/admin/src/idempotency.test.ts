import { embeddedStack } from '@gatehouse/test-stacks';
import { describeIdempotency } from './testing/idempotency-suite.js';

describeIdempotency(embeddedStack);
