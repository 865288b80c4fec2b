import { embeddedStack } from '@gatehouse/test-stacks';
import { describeTokenExchange } from './testing/token-exchange-suite.js';

describeTokenExchange(embeddedStack);
