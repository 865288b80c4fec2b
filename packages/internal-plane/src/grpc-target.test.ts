import { ConfigError } from '@gatehouse/config';
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcTarget, readGrpcTarget } from './grpc-target.js';

describe('grpcTarget', () => {
  it('dials one host name through DNS, every address it resolves to', () => {
    expect(grpcTarget('token:9111', 'X').target).toBe('dns:///token:9111');
  });

  it('takes a list of IP addresses, IPv4 or IPv6, as one round-robin target', () => {
    const target = grpcTarget('127.0.0.1:9111, 127.0.0.1:9112', 'X');
    expect(target.target).toBe('ipv4:127.0.0.1:9111,127.0.0.1:9112');
    expect(target.addresses).toEqual(['127.0.0.1:9111', '127.0.0.1:9112']);
    expect(grpcTarget('[::1]:1,[::1]:2', 'X').target).toBe('ipv6:[::1]:1,[::1]:2');
    expect(grpcTarget('127.0.0.1:9111', 'X').target).toBe('ipv4:127.0.0.1:9111');
    expect(JSON.parse(String(target.channelOptions['grpc.service_config']))).toEqual({
      loadBalancingConfig: [{ round_robin: {} }],
    });
  });

  it.each([
    ['', 'names no address'],
    ['token', 'is not host:port'],
    ['token:0', 'is not host:port'],
    ['token:70000', 'is not host:port'],
    ['token:9111,token2:9111', 'a list takes IP addresses only'],
    ['127.0.0.1:1,[::1]:2', 'mixes IPv4 and IPv6'],
  ])('refuses %j, naming the variable', (value, problem) => {
    const read = () =>
      readGrpcTarget({ GATEHOUSE_TOKEN_GRPC_URL: value || ',' }, 'GATEHOUSE_TOKEN_GRPC_URL', {
        default: '127.0.0.1:9111',
      });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`GATEHOUSE_TOKEN_GRPC_URL: `);
    expect(read).toThrow(problem);
  });
});

// Two replicas of a one-method service answering their own name; the client dials both.
const whoAmI: ServiceDefinition = {
  whoAmI: {
    path: '/test.Replicas/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};
const WhoAmIClient = makeGenericClientConstructor(whoAmI, 'Replicas');

async function replica(name: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(whoAmI, {
    whoAmI: (_call: unknown, callback: (error: null, value: Buffer) => void) =>
      callback(null, Buffer.from(name)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, port };
}

describe('round-robin over replicas', () => {
  const servers: Server[] = [];
  let client: Client | undefined;
  afterEach(() => {
    client?.close();
    for (const server of servers.splice(0)) server.forceShutdown();
  });

  it('spreads calls over every replica, and keeps answering from the other when one dies', async () => {
    const one = await replica('one');
    const two = await replica('two');
    servers.push(one.server, two.server);
    const target = grpcTarget(`127.0.0.1:${one.port},127.0.0.1:${two.port}`, 'X');
    client = new WhoAmIClient(target.target, credentials.createInsecure(), target.channelOptions);
    const call = () =>
      new Promise<string>((resolve, reject) =>
        (client as unknown as { whoAmI: CallableFunction }).whoAmI(
          Buffer.alloc(0),
          { deadline: Date.now() + 2000 },
          (error: ServiceError | null, value: Buffer) =>
            error ? reject(error) : resolve(value.toString()),
        ),
      );
    await new Promise<void>((resolve, reject) =>
      client!.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve())),
    );
    // round_robin starts picking once a subchannel is READY; give the second one its moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = await Promise.all(Array.from({ length: 20 }, call));
    expect(new Set(before)).toEqual(new Set(['one', 'two']));

    one.server.forceShutdown();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await Promise.all(Array.from({ length: 20 }, call));
    expect(new Set(after)).toEqual(new Set(['two']));
  });
});
