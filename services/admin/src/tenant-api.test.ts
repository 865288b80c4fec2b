import { embeddedStack } from '@gatehouse/test-stacks';
import { describeTenantApi } from './testing/tenant-api-suite.js';

describeTenantApi(embeddedStack);
