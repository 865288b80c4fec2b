import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeRefreshReuse } from './testing/refresh-reuse-suite.js';

describeRefreshReuse(kafkaRedisStack('refresh-reuse-test'));
