import { describeGroupApi } from './testing/group-api-suite.js';
import { kafkaRedisStack } from './testing/kafka-redis-stack.js';

describeGroupApi(kafkaRedisStack());
