import { kafkaRedisStack } from './testing/kafka-redis-stack.js';
import { describeUserApi } from './testing/user-api-suite.js';

describeUserApi(kafkaRedisStack());
