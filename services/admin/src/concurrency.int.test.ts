import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeConcurrency } from './testing/concurrency-suite.js';

describeConcurrency(kafkaRedisStack('concurrency-test'));
