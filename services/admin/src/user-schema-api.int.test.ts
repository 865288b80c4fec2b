import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeUserSchemaApi } from './testing/user-schema-suite.js';

describeUserSchemaApi(kafkaRedisStack());
