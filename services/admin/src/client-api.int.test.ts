import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeClientApi } from './testing/client-api-suite.js';

describeClientApi(kafkaRedisStack());
