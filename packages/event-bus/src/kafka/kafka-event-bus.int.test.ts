import { randomUUID } from 'node:crypto';
import { restartLocalKafka, testKafka } from '@gatehouse/testkit';
import { describeEventBusConformance } from '../testing/conformance.js';

const kafka = testKafka();
const clientId = `conformance-${randomUUID().slice(0, 8)}`;

describeEventBusConformance({
  name: `kafka ${kafka.version}`,
  config: () => ({
    kind: 'kafka',
    brokers: kafka.brokers,
    clientId,
    // The broker's minimum: a killed member's partitions move on after at most this long.
    sessionTimeoutMs: 6_000,
    log: () => {}, // the suite provokes connection errors on purpose
  }),
  disrupt: kafka.localDir
    ? async () => {
        await restartLocalKafka(kafka.localDir!);
        return { publisherKilled: false };
      }
    : undefined,
  takeoverMs: 6_000,
});
