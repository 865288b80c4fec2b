import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeCollections } from './testing/collections-suite.js';

describeCollections(kafkaRedisStack());
