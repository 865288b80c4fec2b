import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeUserinfoService } from './testing/userinfo-suite.js';

describeUserinfoService(kafkaRedisStack('userinfo-test'));
