import { embeddedStack } from '@gatehouse/test-stacks';
import { describeAuthorizeService } from './testing/authorize-suite.js';

describeAuthorizeService(embeddedStack);
