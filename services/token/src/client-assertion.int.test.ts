import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeClientAssertions } from './testing/client-assertion-suite.js';

describeClientAssertions(kafkaRedisStack('client-assertion-test'));
