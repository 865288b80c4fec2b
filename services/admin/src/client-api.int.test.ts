import { describeClientApi } from './testing/client-api-suite.js';
import { kafkaRedisStack } from './testing/kafka-redis-stack.js';

describeClientApi(kafkaRedisStack());
