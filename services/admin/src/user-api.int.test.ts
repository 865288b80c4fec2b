import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeUserApi } from './testing/user-api-suite.js';

describeUserApi(kafkaRedisStack());
