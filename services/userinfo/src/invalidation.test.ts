import { embeddedStack } from '@gatehouse/test-stacks';
import { describeImplicitInvalidation } from './testing/invalidation-suite.js';

describeImplicitInvalidation(embeddedStack);
