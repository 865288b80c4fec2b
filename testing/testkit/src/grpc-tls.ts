// Mutual TLS material for tests that serve or call gRPC: one dev CA per test process, and a
// certificate per service name asked for, in memory or written to files for a process's settings.
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDevCertificateAuthority,
  type DevCertificateAuthority,
} from '@gatehouse/dev-certificates';
import { checkedGrpcTls, type GrpcTls } from '@gatehouse/internal-plane';

let authority: Promise<DevCertificateAuthority> | undefined;
const issued = new Map<string, Promise<GrpcTls>>();

/** The test CA's certificate (PEM), what the certificates of `testGrpcTls` are issued by. */
export async function testGrpcCa(): Promise<string> {
  authority ??= createDevCertificateAuthority('Gatehouse test CA');
  return (await authority).cert;
}

/** The credentials of `service` (its name in the certificate's CN), under the test CA. */
export function testGrpcTls(service: string): Promise<GrpcTls> {
  let tls = issued.get(service);
  if (!tls) {
    tls = (async () => {
      const ca = await testGrpcCa();
      const pair = await (await authority!).issue(service);
      return checkedGrpcTls({
        ca: Buffer.from(ca),
        cert: Buffer.from(pair.cert),
        key: Buffer.from(pair.key),
      });
    })();
    issued.set(service, tls);
  }
  return tls;
}

let dir: Promise<string> | undefined;

/** GATEHOUSE_GRPC_TLS_CA/_CERT/_KEY for a process running as `service`: files removed at exit. */
export async function testGrpcTlsEnv(service: string): Promise<Record<string, string>> {
  dir ??= mkdtemp(join(tmpdir(), 'gatehouse-test-tls-')).then((path) => {
    process.once('exit', () => rmSync(path, { recursive: true, force: true }));
    return path;
  });
  const folder = await dir;
  const tls = await testGrpcTls(service);
  const files = {
    GATEHOUSE_GRPC_TLS_CA: join(folder, 'ca.pem'),
    GATEHOUSE_GRPC_TLS_CERT: join(folder, `${service}.pem`),
    GATEHOUSE_GRPC_TLS_KEY: join(folder, `${service}-key.pem`),
  };
  await writeFile(files.GATEHOUSE_GRPC_TLS_CA, tls.ca);
  await writeFile(files.GATEHOUSE_GRPC_TLS_CERT, tls.cert);
  await writeFile(files.GATEHOUSE_GRPC_TLS_KEY, tls.key, { mode: 0o600 });
  return files;
}
