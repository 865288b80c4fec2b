import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeDpop } from './testing/dpop-suite.js';

describeDpop(kafkaRedisStack('dpop-test'));
