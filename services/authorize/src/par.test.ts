import { embeddedStack } from '@gatehouse/test-stacks';
import { describePushedAuthorizationRequests } from './testing/par-suite.js';

describePushedAuthorizationRequests(embeddedStack);
