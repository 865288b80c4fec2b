import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeImplicitInvalidation } from './testing/invalidation-suite.js';

describeImplicitInvalidation(kafkaRedisStack('invalidation-test'));
