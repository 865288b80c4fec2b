import { embeddedStack } from '@gatehouse/test-stacks';
import { describeUserinfoService } from './testing/userinfo-suite.js';

describeUserinfoService(embeddedStack);
