// The internal plane's protection, shared by every service: gRPC over mutual TLS only (a server
// requires and verifies its caller's certificate, and learns from it which service calls), and the
// one address a service's ports listen on. There is no plaintext mode: a service with a gRPC side
// refuses to start without its certificate, so a forgotten setting cannot open the plane.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import {
  type ChannelCredentials,
  credentials,
  type ServerCredentials,
  ServerCredentials as ServerCredentialsClass,
  type ServerUnaryCall,
} from '@grpc/grpc-js';

/** Mutual TLS material of one service: the CA it trusts, its own certificate chain and key (PEM). */
export interface GrpcTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** The service this certificate names (its subject's CN): what its peers see as the caller. */
  service: string;
}

export const grpcTlsVariables = {
  /** PEM file of the CA (or CAs) whose certificates this service accepts from its peers. */
  ca: 'GATEHOUSE_GRPC_TLS_CA',
  /** PEM file of this service's certificate (and chain), presented to servers and to clients. */
  cert: 'GATEHOUSE_GRPC_TLS_CERT',
  /** PEM file of that certificate's private key. */
  key: 'GATEHOUSE_GRPC_TLS_KEY',
} as const;

const hint =
  'gRPC between services is mutual TLS only; `pnpm stack` makes a dev CA, see "Securing the internal plane" in the README';

function readPem(env: Environment, variable: string): Buffer {
  const file = setting.string(env, variable, { hint });
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      variable,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  if (!content.includes('-----BEGIN '))
    throw new ConfigError(variable, `${file} holds no PEM data`);
  return content;
}

/** The CN of a certificate's subject (`CN=token` gives `token`). */
function commonName(subject: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1];
}

/**
 * GATEHOUSE_GRPC_TLS_CA, GATEHOUSE_GRPC_TLS_CERT and GATEHOUSE_GRPC_TLS_KEY (all required): files
 * read and checked now (PEM, the key matches the certificate, the CA issued it), so a mistake stops
 * the service at start rather than failing its first call.
 */
export function readGrpcTls(env: Environment): GrpcTls {
  const ca = readPem(env, grpcTlsVariables.ca);
  const cert = readPem(env, grpcTlsVariables.cert);
  const key = readPem(env, grpcTlsVariables.key);
  return checkedGrpcTls({ ca, cert, key });
}

/** Checks PEM material given in memory (the tests' certificates): key, chain, CN. */
export function checkedGrpcTls(material: { ca: Buffer; cert: Buffer; key: Buffer }): GrpcTls {
  const { ca, cert, key } = material;
  try {
    createSecureContext({ ca, cert, key });
  } catch (error) {
    throw new ConfigError(
      grpcTlsVariables.key,
      `does not go with ${grpcTlsVariables.cert} (${(error as Error).message})`,
    );
  }
  let own: X509Certificate;
  let authority: X509Certificate;
  try {
    own = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError(
      grpcTlsVariables.cert,
      `is not a certificate: ${(error as Error).message}`,
    );
  }
  try {
    authority = new X509Certificate(ca);
  } catch (error) {
    throw new ConfigError(grpcTlsVariables.ca, `is not a certificate: ${(error as Error).message}`);
  }
  // Peers trust only this CA, so a certificate it did not issue could never be accepted by them.
  if (!own.checkIssued(authority) || !own.verify(authority.publicKey))
    throw new ConfigError(
      grpcTlsVariables.cert,
      `was not issued by the CA of ${grpcTlsVariables.ca} (${authority.subject.replace(/\n/g, ', ')})`,
    );
  const service = commonName(own.subject);
  if (!service)
    throw new ConfigError(grpcTlsVariables.cert, 'names no service: its subject has no CN');
  return { ca, cert, key, service };
}

/** A gRPC server's credentials: TLS with this certificate, and a client certificate required. */
export function grpcServerCredentials(tls: GrpcTls): ServerCredentials {
  return ServerCredentialsClass.createSsl(
    tls.ca,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    true,
  );
}

/** A gRPC client's credentials: the server must show a certificate of the CA; we show ours. */
export function grpcChannelCredentials(tls: GrpcTls): ChannelCredentials {
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}

/**
 * The service calling: the CN of the certificate it presented. The TLS layer has already verified
 * that certificate against the CA, so the name is as trustworthy as the CA's issuing.
 */
export function callingService(
  call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>,
): string | undefined {
  const peer = call.getAuthContext().sslPeerCertificate;
  const cn = peer?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * GATEHOUSE_BIND_ADDRESS, default 127.0.0.1: the address every port of the service (HTTP and gRPC)
 * listens on. Loopback by default, so a service is reachable from elsewhere only when the operator
 * says where (0.0.0.0 inside a container on an internal network, a private interface's address).
 */
export function readBindAddress(env: Environment): string {
  const address = setting.string(env, 'GATEHOUSE_BIND_ADDRESS', { default: '127.0.0.1' });
  if (isIP(address) === 0)
    throw new ConfigError(
      'GATEHOUSE_BIND_ADDRESS',
      `${JSON.stringify(address)} is not an IP address (127.0.0.1, 0.0.0.0, ::, or an interface's)`,
    );
  return address;
}

/** host:port for gRPC's bind, with IPv6 addresses in brackets. */
export function grpcAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
export { type GrpcTarget, grpcTarget, readGrpcTarget } from './grpc-target.js';
export { rpcClientMetrics, rpcNames, timedImplementation } from './rpc-metrics.js';
