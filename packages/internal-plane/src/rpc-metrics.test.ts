import { GatehouseMetrics } from '@gatehouse/metrics';
import { type ServiceDefinition, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { rpcNames, timedImplementation } from './rpc-metrics.js';

const definition = {
  mintTokens: { path: '/gatehouse.token.v1.TokenService/MintTokens' },
  watch: { path: '/gatehouse.token.v1.TokenService/Watch', responseStream: true },
} as unknown as ServiceDefinition;

describe('rpc metrics', () => {
  it('names the service and method of a path', () => {
    expect(rpcNames('/gatehouse.token.v1.TokenService/MintTokens')).toEqual({
      rpc_service: 'gatehouse.token.v1.TokenService',
      rpc_method: 'MintTokens',
    });
    expect(rpcNames('nonsense')).toEqual({ rpc_service: 'unknown', rpc_method: 'unknown' });
  });

  it('times unary handlers by their status code, passes answers on, leaves streams alone', async () => {
    const metrics = new GatehouseMetrics();
    let fail = false;
    const watch = () => {};
    const implementation = {
      mintTokens: (_call: unknown, callback: (e: unknown, v?: unknown) => void) =>
        fail ? callback({ code: status.PERMISSION_DENIED }) : callback(null, { ok: 1 }),
      watch,
    };
    const timed = timedImplementation(definition, implementation, metrics);
    expect(timed.watch).toBe(watch);
    const answers: unknown[] = [];
    timed.mintTokens({}, (error, value) => answers.push(error ?? value));
    fail = true;
    timed.mintTokens({}, (error, value) => answers.push(error ?? value));
    expect(answers).toEqual([{ ok: 1 }, { code: status.PERMISSION_DENIED }]);
    const text = await metrics.exposition();
    for (const code of [status.OK, status.PERMISSION_DENIED])
      expect(text).toContain(
        `rpc_server_duration_seconds_count{rpc_system="grpc",rpc_service="gatehouse.token.v1.TokenService",rpc_method="MintTokens",rpc_grpc_status_code="${code}"} 1`,
      );
  });
});
