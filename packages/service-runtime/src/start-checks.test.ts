import { describe, expect, it } from 'vitest';
import { kafkaReachable, portFailure, redisReachable, StartFailure } from './start-checks.js';

describe('start-up failures', () => {
  it("names the port and its variable, from Node's error or grpc-js's message", () => {
    const http = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(portFailure(http, 9010, '127.0.0.1', 'GATEHOUSE_ADMIN_PORT')).toEqual(
      new StartFailure('port 9010 (GATEHOUSE_ADMIN_PORT) on 127.0.0.1 is already in use'),
    );
    const grpc = new Error(
      'No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 127.0.0.1:9111]',
    );
    expect(portFailure(grpc, 9111, '127.0.0.1', 'GATEHOUSE_TOKEN_GRPC_PORT').message).toBe(
      'port 9111 (GATEHOUSE_TOKEN_GRPC_PORT) on 127.0.0.1 is already in use',
    );
    const other = new Error('something else');
    expect(portFailure(other, 1, '127.0.0.1')).toBe(other);
  });

  it('gives Redis its budget, then names GATEHOUSE_REDIS_URL with the last reason', async () => {
    let tries = 0;
    const failing = redisReachable(
      async () => {
        tries += 1;
        throw new Error('Redis: connect ECONNREFUSED 127.0.0.1:1\n    at stack');
      },
      'redis://127.0.0.1:1',
      350,
    );
    await expect(failing).rejects.toThrow(
      new StartFailure(
        'cannot reach Redis at redis://127.0.0.1:1 (GATEHOUSE_REDIS_URL) within 350 ms: Redis: connect ECONNREFUSED 127.0.0.1:1',
      ),
    );
    expect(tries).toBeGreaterThan(1);
  });

  it('keeps the reason Redis gave when the last try is cut short by the budget', async () => {
    let tries = 0;
    const failing = redisReachable(
      () => {
        tries += 1;
        // Refused at first; then the client queues the command while it reconnects (no answer).
        return tries === 1
          ? Promise.reject(new Error('Redis: connect ECONNREFUSED 127.0.0.1:1'))
          : new Promise(() => {});
      },
      'redis://127.0.0.1:1',
      300,
    );
    await expect(failing).rejects.toThrow(
      /within 300 ms: Redis: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });

  it("names GATEHOUSE_KAFKA_BROKERS with the Kafka client's last error when the budget runs out", async () => {
    const never = new Promise<void>(() => {});
    await expect(
      kafkaReachable(never, ['10.0.0.1:9092'], 50, () => 'Connection timeout'),
    ).rejects.toThrow(
      'cannot reach Kafka at 10.0.0.1:9092 (GATEHOUSE_KAFKA_BROKERS) within 50 ms: Connection timeout',
    );
  });
});
