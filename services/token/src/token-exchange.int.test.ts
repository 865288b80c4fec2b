import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeTokenExchange } from './testing/token-exchange-suite.js';

describeTokenExchange(kafkaRedisStack('token-exchange-test'));
