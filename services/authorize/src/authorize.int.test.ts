import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeAuthorizeService } from './testing/authorize-suite.js';

describeAuthorizeService(kafkaRedisStack('authorize-test'));
