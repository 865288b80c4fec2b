import { embeddedStack } from '@gatehouse/test-stacks';
import { describeDeviceAuthorizationGrant } from './testing/device-suite.js';

describeDeviceAuthorizationGrant(embeddedStack);
