import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeKeys } from './testing/keys-suite.js';

describeKeys(kafkaRedisStack('keys-test'));
