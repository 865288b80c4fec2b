import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeRecovery } from './testing/recovery-suite.js';

describeRecovery(kafkaRedisStack('recovery-test'));
