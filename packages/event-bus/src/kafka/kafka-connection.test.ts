import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKafkaConnection } from './kafka-connection.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const brokers = { GATEHOUSE_KAFKA_BROKERS: 'a:9092,b:9092' };

describe('readKafkaConnection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-kafka-settings-'));
    await writeFile(join(dir, 'ca.pem'), pem);
    await writeFile(join(dir, 'junk.pem'), 'junk');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is plaintext without credentials unless told', () => {
    expect(readKafkaConnection(brokers)).toEqual({
      brokers: ['a:9092', 'b:9092'],
      defaultPartitions: 6,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      lingerMs: 1,
      maxBatchEvents: 1_000,
      maxBatchBytes: 1_000_000,
    });
  });

  it('lingers 1 ms for fuller produce requests unless told otherwise, within bounds', () => {
    const batching = (env: Record<string, string>) => {
      const { lingerMs, maxBatchEvents, maxBatchBytes } = readKafkaConnection({
        ...brokers,
        ...env,
      });
      return [lingerMs, maxBatchEvents, maxBatchBytes];
    };
    expect(batching({})).toEqual([1, 1_000, 1_000_000]);
    expect(
      batching({
        GATEHOUSE_KAFKA_LINGER_MS: '0',
        GATEHOUSE_KAFKA_MAX_BATCH_EVENTS: '200',
        GATEHOUSE_KAFKA_MAX_BATCH_BYTES: '65536',
      }),
    ).toEqual([0, 200, 65_536]);
    const fails = (env: Record<string, string>) => () =>
      readKafkaConnection({ ...brokers, ...env });
    // More than a few ms only adds latency: refused, not clamped.
    expect(fails({ GATEHOUSE_KAFKA_LINGER_MS: '6' })).toThrow(
      'GATEHOUSE_KAFKA_LINGER_MS: must be a whole number from 0 to 5, not "6"',
    );
    expect(fails({ GATEHOUSE_KAFKA_LINGER_MS: '0.5' })).toThrow(/^GATEHOUSE_KAFKA_LINGER_MS:/);
    expect(fails({ GATEHOUSE_KAFKA_MAX_BATCH_EVENTS: '0' })).toThrow(
      'GATEHOUSE_KAFKA_MAX_BATCH_EVENTS: must be a whole number from 1 to 10000, not "0"',
    );
    expect(fails({ GATEHOUSE_KAFKA_MAX_BATCH_BYTES: '100' })).toThrow(
      'GATEHOUSE_KAFKA_MAX_BATCH_BYTES: must be a whole number from 1024 to 16777216, not "100"',
    );
  });

  it('creates topics replicated 3 times, 2 in sync, unless told otherwise', () => {
    const topics = (env: Record<string, string>) => {
      const { defaultPartitions, replicationFactor, minInsyncReplicas } = readKafkaConnection({
        ...brokers,
        ...env,
      });
      return [defaultPartitions, replicationFactor, minInsyncReplicas];
    };
    expect(topics({})).toEqual([6, 3, 2]);
    expect(
      topics({
        GATEHOUSE_KAFKA_PARTITIONS: '12',
        GATEHOUSE_KAFKA_REPLICATION_FACTOR: '5',
        GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '3',
      }),
    ).toEqual([12, 5, 3]);
    // One broker (a laptop, docker-compose): one copy, and one in sync without saying so.
    expect(topics({ GATEHOUSE_KAFKA_REPLICATION_FACTOR: '1' })).toEqual([6, 1, 1]);
  });

  it('refuses topic settings no cluster could honour, naming the variable', () => {
    const fails = (env: Record<string, string>) => () =>
      readKafkaConnection({ ...brokers, ...env });
    expect(fails({ GATEHOUSE_KAFKA_PARTITIONS: '0' })).toThrow(
      'GATEHOUSE_KAFKA_PARTITIONS: must be a whole number from 1 to 1000, not "0"',
    );
    expect(fails({ GATEHOUSE_KAFKA_PARTITIONS: '1001' })).toThrow(/^GATEHOUSE_KAFKA_PARTITIONS:/);
    expect(fails({ GATEHOUSE_KAFKA_REPLICATION_FACTOR: 'three' })).toThrow(
      'GATEHOUSE_KAFKA_REPLICATION_FACTOR: must be a whole number from 1 to 16, not "three"',
    );
    expect(fails({ GATEHOUSE_KAFKA_REPLICATION_FACTOR: '-1' })).toThrow(
      /^GATEHOUSE_KAFKA_REPLICATION_FACTOR:/,
    );
    expect(fails({ GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '0' })).toThrow(
      /^GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: must be a whole number/,
    );
    expect(
      fails({ GATEHOUSE_KAFKA_REPLICATION_FACTOR: '2', GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '3' }),
    ).toThrow(
      'GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: is 3, above GATEHOUSE_KAFKA_REPLICATION_FACTOR (2): no write could ever be acknowledged',
    );
  });

  it('turns TLS on with GATEHOUSE_KAFKA_SSL or a CA file, and SASL with a mechanism', () => {
    expect(readKafkaConnection({ ...brokers, GATEHOUSE_KAFKA_SSL: 'true' }).ssl).toEqual({});
    expect(
      readKafkaConnection({ ...brokers, GATEHOUSE_KAFKA_SSL_CA: join(dir, 'ca.pem') }).ssl,
    ).toEqual({ ca: [pem] });
    expect(
      readKafkaConnection({
        ...brokers,
        GATEHOUSE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        GATEHOUSE_KAFKA_SASL_USERNAME: 'gatehouse',
        GATEHOUSE_KAFKA_SASL_PASSWORD: ' s3cret ',
      }).sasl,
    ).toEqual({ mechanism: 'scram-sha-512', username: 'gatehouse', password: ' s3cret ' });
  });

  it('stops at start, naming the variable, on what the brokers would refuse later', () => {
    const fails = (env: Record<string, string>) => () =>
      readKafkaConnection({ ...brokers, ...env });
    expect(fails({ GATEHOUSE_KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(
      'GATEHOUSE_KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512, not "gssapi"',
    );
    expect(fails({ GATEHOUSE_KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      'GATEHOUSE_KAFKA_SASL_USERNAME: is required with SASL plain',
    );
    expect(
      fails({ GATEHOUSE_KAFKA_SASL_MECHANISM: 'plain', GATEHOUSE_KAFKA_SASL_USERNAME: 'u' }),
    ).toThrow('GATEHOUSE_KAFKA_SASL_PASSWORD: is required with SASL plain');
    expect(
      fails({ GATEHOUSE_KAFKA_SASL_USERNAME: 'u', GATEHOUSE_KAFKA_SASL_PASSWORD: 'p' }),
    ).toThrow(/^GATEHOUSE_KAFKA_SASL_MECHANISM: is required with/);
    expect(fails({ GATEHOUSE_KAFKA_SSL: 'yes' })).toThrow(
      'GATEHOUSE_KAFKA_SSL: must be true or false, not "yes"',
    );
    expect(
      fails({ GATEHOUSE_KAFKA_SSL: 'false', GATEHOUSE_KAFKA_SSL_CA: join(dir, 'ca.pem') }),
    ).toThrow('GATEHOUSE_KAFKA_SSL: is false, but GATEHOUSE_KAFKA_SSL_CA is set');
    expect(fails({ GATEHOUSE_KAFKA_SSL_CA: join(dir, 'missing.pem') })).toThrow(
      `GATEHOUSE_KAFKA_SSL_CA: cannot read ${join(dir, 'missing.pem')}: ENOENT`,
    );
    expect(fails({ GATEHOUSE_KAFKA_SSL_CA: join(dir, 'junk.pem') })).toThrow(
      `GATEHOUSE_KAFKA_SSL_CA: ${join(dir, 'junk.pem')} holds no PEM certificate`,
    );
  });
});
