import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describeDeviceAuthorizationGrant } from './testing/device-suite.js';

describeDeviceAuthorizationGrant(kafkaRedisStack('device-test'));
