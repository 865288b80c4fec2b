import { embeddedStack } from '@gatehouse/test-stacks';
import { describeRecovery } from './testing/recovery-suite.js';

describeRecovery(embeddedStack);
