import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeKeyPool } from './testing/key-pool-suite.js';

describeKeyPool(kafkaRedisStack('key-pool-test'));
