import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/config';
import {
  createDevCertificateAuthority,
  type DevCertificateAuthority,
  loadOrCreateDevCertificates,
} from '@gatehouse/dev-certificates';
import {
  type ChannelCredentials,
  credentials,
  makeGenericClientConstructor,
  Server,
  type ServiceDefinition,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callingService,
  checkedGrpcTls,
  type GrpcTls,
  grpcAddress,
  grpcChannelCredentials,
  grpcServerCredentials,
  readBindAddress,
  readGrpcTls,
} from './index.js';

// One unary method whose answer is the calling service's name: bytes in, bytes out.
const whoAmI: ServiceDefinition = {
  whoAmI: {
    path: '/test.Plane/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};
const Client = makeGenericClientConstructor(whoAmI, 'Plane');

const tlsOf = async (ca: DevCertificateAuthority, service: string): Promise<GrpcTls> => {
  const issued = await ca.issue(service);
  return checkedGrpcTls({
    ca: Buffer.from(ca.cert),
    cert: Buffer.from(issued.cert),
    key: Buffer.from(issued.key),
  });
};

describe('gRPC over mutual TLS', () => {
  let ca: DevCertificateAuthority;
  let other: DevCertificateAuthority;
  let server: Server;
  let address: string;
  beforeAll(async () => {
    ca = await createDevCertificateAuthority();
    other = await createDevCertificateAuthority('Somebody else');
    server = new Server();
    server.addService(whoAmI, {
      whoAmI: (
        call: Parameters<typeof callingService>[0],
        callback: (e: null, v: Buffer) => void,
      ) => callback(null, Buffer.from(callingService(call) ?? '(nobody)')),
    });
    const serverTls = await tlsOf(ca, 'token');
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        grpcAddress('127.0.0.1', 0),
        grpcServerCredentials(serverTls),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server?.forceShutdown());

  const call = (channel: ChannelCredentials) =>
    new Promise<string>((resolve, reject) => {
      const client = new Client(address, channel);
      client.makeUnaryRequest(
        whoAmI.whoAmI!.path,
        (value: Buffer) => value,
        (bytes: Buffer) => bytes,
        Buffer.alloc(0),
        { deadline: Date.now() + 3000 },
        (error: ServiceError | null, value?: Buffer) => {
          client.close();
          error ? reject(error) : resolve(value!.toString());
        },
      );
    });

  it('tells the server which service calls, from its certificate', async () => {
    expect(await call(grpcChannelCredentials(await tlsOf(ca, 'authorize')))).toBe('authorize');
  });

  it('refuses a plaintext client', async () => {
    await expect(call(credentials.createInsecure())).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('refuses a TLS client without a certificate', async () => {
    await expect(call(credentials.createSsl(Buffer.from(ca.cert)))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('refuses a client whose certificate another CA issued', async () => {
    const stranger = await other.issue('authorize');
    await expect(
      call(
        credentials.createSsl(
          Buffer.from(ca.cert),
          Buffer.from(stranger.key),
          Buffer.from(stranger.cert),
        ),
      ),
    ).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});

describe('GATEHOUSE_GRPC_TLS_* at start', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-plane-'));
    const files = await loadOrCreateDevCertificates(join(dir, 'certs'), ['token', 'keys']);
    env = {
      GATEHOUSE_GRPC_TLS_CA: files.ca,
      GATEHOUSE_GRPC_TLS_CERT: files.cert('token'),
      GATEHOUSE_GRPC_TLS_KEY: files.key('token'),
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const problem = (overrides: Record<string, string | undefined>) => {
    try {
      readGrpcTls({ ...env, ...overrides });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('reads the files and the service the certificate names', () => {
    const tls = readGrpcTls(env);
    expect(tls.service).toBe('token');
    expect(tls.ca.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('keeps private keys readable by the owner only, and the CA across runs', async () => {
    expect((await stat(join(dir, 'certs', 'token-key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'certs', 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateDevCertificates(join(dir, 'certs'), ['token', 'keys', 'admin']);
    // The kept CA issued the new certificate too.
    expect(
      readGrpcTls({
        ...env,
        GATEHOUSE_GRPC_TLS_CERT: again.cert('admin'),
        GATEHOUSE_GRPC_TLS_KEY: again.key('admin'),
      }).service,
    ).toBe('admin');
  });

  it('refuses to start without them: there is no plaintext mode', () => {
    expect(problem({ GATEHOUSE_GRPC_TLS_CA: undefined })).toMatch(
      /^GATEHOUSE_GRPC_TLS_CA: is required \(gRPC between services is mutual TLS only/,
    );
    expect(problem({ GATEHOUSE_GRPC_TLS_KEY: '' })).toMatch(/^GATEHOUSE_GRPC_TLS_KEY: is required/);
  });

  it('names the file it cannot read, or that holds no PEM', async () => {
    expect(problem({ GATEHOUSE_GRPC_TLS_CERT: join(dir, 'missing.pem') })).toBe(
      `GATEHOUSE_GRPC_TLS_CERT: cannot read ${join(dir, 'missing.pem')}: ENOENT`,
    );
    await writeFile(join(dir, 'junk.pem'), 'not a certificate');
    expect(problem({ GATEHOUSE_GRPC_TLS_CA: join(dir, 'junk.pem') })).toBe(
      `GATEHOUSE_GRPC_TLS_CA: ${join(dir, 'junk.pem')} holds no PEM data`,
    );
  });

  it("refuses a key that is not the certificate's, and a certificate of another CA", async () => {
    expect(problem({ GATEHOUSE_GRPC_TLS_KEY: join(dir, 'certs', 'keys-key.pem') })).toMatch(
      /^GATEHOUSE_GRPC_TLS_KEY: does not go with GATEHOUSE_GRPC_TLS_CERT/,
    );
    const other = await createDevCertificateAuthority('Somebody else');
    await writeFile(join(dir, 'other-ca.pem'), other.cert);
    expect(problem({ GATEHOUSE_GRPC_TLS_CA: join(dir, 'other-ca.pem') })).toBe(
      'GATEHOUSE_GRPC_TLS_CERT: was not issued by the CA of GATEHOUSE_GRPC_TLS_CA (CN=Somebody else)',
    );
  });
});

describe('GATEHOUSE_BIND_ADDRESS', () => {
  it('is loopback unless set', () => {
    expect(readBindAddress({})).toBe('127.0.0.1');
    expect(readBindAddress({ GATEHOUSE_BIND_ADDRESS: '0.0.0.0' })).toBe('0.0.0.0');
    expect(readBindAddress({ GATEHOUSE_BIND_ADDRESS: '::' })).toBe('::');
  });

  it('must be an IP address', () => {
    expect(() => readBindAddress({ GATEHOUSE_BIND_ADDRESS: 'everywhere' })).toThrow(
      'GATEHOUSE_BIND_ADDRESS: "everywhere" is not an IP address',
    );
  });

  it('brackets IPv6 for gRPC', () => {
    expect(grpcAddress('::1', 9111)).toBe('[::1]:9111');
    expect(grpcAddress('127.0.0.1', 9111)).toBe('127.0.0.1:9111');
  });
});
