import { embeddedStack } from '@gatehouse/test-stacks';
import { describeAppApi } from './testing/app-api-suite.js';

describeAppApi(embeddedStack);
