import { describeAuthorizationServerApi } from './testing/authorization-server-api-suite.js';
import { kafkaRedisStack } from './testing/kafka-redis-stack.js';

describeAuthorizationServerApi(kafkaRedisStack());
