import { embeddedStack } from '@gatehouse/test-stacks';
import { describeGroupApi } from './testing/group-api-suite.js';

describeGroupApi(embeddedStack);
