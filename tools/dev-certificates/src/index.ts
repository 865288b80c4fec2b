// A development CA and one certificate per service, for `pnpm stack` and the tests: what an
// operator's own PKI provides in production. ECDSA P-256 (a key in milliseconds, where RSA takes
// hundreds); each certificate names its service in the subject's CN (the caller identity the gRPC
// servers check) and is valid for both ends of a connection, on loopback and on the service's name.
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

export interface IssuedCertificate {
  /** PEM: the certificate. */
  cert: string;
  /** PEM: its PKCS#8 private key. */
  key: string;
}

export interface DevCertificateAuthority {
  /** PEM: the CA's certificate, what every end trusts. */
  cert: string;
  /** Issues a certificate whose CN is `service`. */
  issue(service: string): Promise<IssuedCertificate>;
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex');

const pemKey = async (key: CryptoKey) =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

const validity = (years: number) => {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + years);
  return { notBefore, notAfter };
};

/** A new CA, `name` in its CN; its private key lives only in memory unless `key` is kept. */
export async function createDevCertificateAuthority(
  name = 'Gatehouse dev CA',
  kept?: IssuedCertificate,
): Promise<DevCertificateAuthority & { key: string }> {
  let caCert: x509.X509Certificate;
  let caKeys: { privateKey: CryptoKey; publicKey: CryptoKey };
  if (kept) {
    caCert = new x509.X509Certificate(kept.cert);
    const privateKey = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(kept.key),
      algorithm,
      true,
      ['sign'],
    );
    caKeys = { privateKey, publicKey: await caCert.publicKey.export(algorithm, ['verify']) };
  } else {
    caKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as {
      privateKey: CryptoKey;
      publicKey: CryptoKey;
    };
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${name}`,
      ...validity(10),
      signingAlgorithm: algorithm,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
  }
  return {
    cert: caCert.toString('pem'),
    key: kept?.key ?? (await pemKey(caKeys.privateKey)),
    async issue(service) {
      const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as {
        privateKey: CryptoKey;
        publicKey: CryptoKey;
      };
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${service}`,
        issuer: caCert.subject,
        ...validity(2),
        signingAlgorithm: algorithm,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([serverAuth, clientAuth]),
          // The names a client dials: the service's own (compose), localhost and loopback (the stack).
          new x509.SubjectAlternativeNameExtension([
            { type: 'dns', value: service },
            { type: 'dns', value: 'localhost' },
            { type: 'ip', value: '127.0.0.1' },
            { type: 'ip', value: '::1' },
          ]),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
      return { cert: cert.toString('pem'), key: await pemKey(keys.privateKey) };
    },
  };
}

/** Where the files of `writeDevCertificates` are, per service: GATEHOUSE_GRPC_TLS_* values. */
export interface DevCertificateFiles {
  ca: string;
  cert(service: string): string;
  key(service: string): string;
}

export function devCertificateFiles(dir: string): DevCertificateFiles {
  return {
    ca: join(dir, 'ca.pem'),
    cert: (service) => join(dir, `${service}.pem`),
    key: (service) => join(dir, `${service}-key.pem`),
  };
}

/**
 * The dev CA in `dir` (ca.pem, ca-key.pem), made on first use and kept, and a certificate and key
 * for each service that has none there yet. Keys are written readable by the owner only.
 */
export async function loadOrCreateDevCertificates(
  dir: string,
  services: readonly string[],
): Promise<DevCertificateFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = devCertificateFiles(dir);
  const caKeyFile = join(dir, 'ca-key.pem');
  const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const [caCert, caKey] = [await read(files.ca), await read(caKeyFile)];
  const ca = await createDevCertificateAuthority(
    undefined,
    caCert && caKey ? { cert: caCert, key: caKey } : undefined,
  );
  const fresh = !(caCert && caKey);
  if (fresh) {
    await writeFile(caKeyFile, ca.key, { mode: 0o600 });
    await writeFile(files.ca, ca.cert);
  }
  for (const service of services) {
    // A new CA invalidates every certificate of the old one.
    if (!fresh && (await read(files.cert(service))) && (await read(files.key(service)))) continue;
    const issued = await ca.issue(service);
    await writeFile(files.key(service), issued.key, { mode: 0o600 });
    await writeFile(files.cert(service), issued.cert);
  }
  return files;
}
