import { kafkaRedisStack } from '@gatehouse/test-stacks';
import { describePushedAuthorizationRequests } from './testing/par-suite.js';

describePushedAuthorizationRequests(kafkaRedisStack('par-test'));
