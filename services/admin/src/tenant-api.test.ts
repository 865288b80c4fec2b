import { embeddedStack } from './testing/stacks.js';
import { describeTenantApi } from './testing/tenant-api-suite.js';

describeTenantApi(embeddedStack);
