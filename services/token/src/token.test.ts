import { embeddedStack } from '@gatehouse/test-stacks';
import { describeTokenService } from './testing/token-suite.js';

describeTokenService(embeddedStack);
