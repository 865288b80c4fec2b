// The token service's test harness, for suites of other services that need a running token service.
export { basic, startToken, tenancy } from './token-harness.js';
