import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeTokenService } from './testing/token-suite.js';

describeTokenService(kafkaRedisStack('token-test'));
