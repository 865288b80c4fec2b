import { kafkaRedisStack } from './testing/kafka-redis-stack.js';
import { describeTenantApi } from './testing/tenant-api-suite.js';

describeTenantApi(kafkaRedisStack());
