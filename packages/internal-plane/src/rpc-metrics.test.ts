import { GatehouseMetrics } from '@gatehouse/metrics';
import {
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { rpcClientMetrics, rpcNames, timedImplementation } from './rpc-metrics.js';

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

  it('times a real client call by its status, and the caller still gets the answer and the error', async () => {
    const echo = {
      echo: {
        path: '/test.Echo/Echo',
        requestStream: false,
        responseStream: false,
        requestSerialize: (value: string) => Buffer.from(value),
        requestDeserialize: (bytes: Buffer) => bytes.toString(),
        responseSerialize: (value: string) => Buffer.from(value),
        responseDeserialize: (bytes: Buffer) => bytes.toString(),
      },
    } as unknown as ServiceDefinition;
    const server = new Server();
    server.addService(echo, {
      echo: (
        call: { request: string },
        callback: (e: { code: number; details: string } | null, v?: string) => void,
      ) =>
        call.request === 'no'
          ? callback({ code: status.NOT_FOUND, details: 'no' })
          : callback(null, `echo ${call.request}`),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const metrics = new GatehouseMetrics();
    const Client = makeGenericClientConstructor(echo, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      interceptors: [rpcClientMetrics(metrics)],
    }) as unknown as {
      echo(request: string, callback: (e: { code: number } | null, v?: string) => void): void;
      close(): void;
    };
    const call = (request: string) =>
      new Promise<unknown>((resolve) =>
        client.echo(request, (error, value) => resolve(error ? error.code : value)),
      );
    try {
      expect(await call('hi')).toBe('echo hi');
      expect(await call('no')).toBe(status.NOT_FOUND);
    } finally {
      client.close();
      server.forceShutdown();
    }
    const text = await metrics.exposition();
    for (const code of [status.OK, status.NOT_FOUND])
      expect(text).toContain(
        `rpc_client_duration_seconds_count{rpc_system="grpc",rpc_service="test.Echo",rpc_method="Echo",rpc_grpc_status_code="${code}"} 1`,
      );
  });
});
