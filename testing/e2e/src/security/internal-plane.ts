// The internal-plane attack of the security suite (distributed stack only): a process that can reach
// the token service's gRPC port asks it for a user's tokens, without the user's password — in
// plaintext, with a certificate of another CA, with the certificate of a service that has no business
// minting — and looks for the services' ports on the machine's other addresses. A call with the
// authorize service's own certificate shows the same request does mint, so each refusal is the
// plane's and not a mistake of the request.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type MintTokensResponse, TokenServiceClient } from '@gatehouse/contracts';
import { createDevCertificateAuthority } from '@gatehouse/dev-certificates';
import { checkedGrpcTls, grpcChannelCredentials } from '@gatehouse/internal-plane';
import { repoRoot } from '@gatehouse/stack';
import {
  type ChannelCredentials,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApp, type E2eTenant, newE2eTenant } from '../suite.js';
import type { StackTarget } from '../targets.js';

/** What a MintTokens attempt got: tokens (and what /userinfo said of them), or a gRPC refusal. */
type Outcome =
  | { minted: { accessToken: string; idToken: string }; userinfo: number }
  | { refused: number };

async function attemptMint(
  address: string,
  channel: ChannelCredentials,
  tenant: E2eTenant,
): Promise<Outcome> {
  const client = new TokenServiceClient(address, channel);
  try {
    const minted = await new Promise<MintTokensResponse>((resolve, reject) =>
      client.mintTokens(
        {
          tenant: tenant.id,
          serverId: 'default',
          // The web client has the implicit grant: what authorize itself would ask for.
          clientId: tenant.web.clientId,
          userId: tenant.user.id,
          scopes: ['openid', 'profile', 'email'],
          accessToken: true,
          idToken: true,
          nonce: 'attack',
          authTime: BigInt(Math.floor(Date.now() / 1000)),
          amr: ['pwd'],
          code: '',
          grantId: '',
          requestId: 'attack',
        },
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (error: ServiceError | null, value?: MintTokensResponse) =>
          error ? reject(error) : resolve(value!),
      ),
    );
    const userinfo = await fetch(`${tenant.issuer}/v1/userinfo`, {
      headers: { authorization: `Bearer ${minted.accessToken}` },
    });
    return {
      minted: { accessToken: minted.accessToken, idToken: minted.idToken },
      userinfo: userinfo.status,
    };
  } catch (error) {
    const code = (error as ServiceError).code;
    if (typeof code !== 'number') throw error;
    return { refused: code };
  } finally {
    client.close();
  }
}

/** Whether a TCP connection to host:port is accepted (within 2 s). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** This machine's addresses other than loopback (IPv4 and global IPv6). */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry && !entry.internal && !entry.address.startsWith('fe80:'))
    .map((entry) => entry!.address);
}

export function defineInternalPlaneAttacks(getTarget: () => StackTarget): void {
  describe('security: the internal plane (distributed stack)', () => {
    const app = new ClientApp();
    let tenant: E2eTenant;
    let tokenGrpc: string;
    beforeAll(async () => {
      await app.start();
      tenant = await newE2eTenant(getTarget(), app);
      const token = getTarget()
        .stack.services()
        .find((s) => s.name === 'token')!;
      tokenGrpc = `127.0.0.1:${token.grpcPort}`;
    });
    afterAll(() => app.stop());

    /** The credentials of a service of the stack, from the files its process was given. */
    const serviceCredentials = async (service: 'authorize' | 'keys') => {
      const files = getTarget().stack.certificates;
      return grpcChannelCredentials(
        checkedGrpcTls({
          ca: await readFile(files.ca),
          cert: await readFile(files.cert(service)),
          key: await readFile(files.key(service)),
        }),
      );
    };

    it('mints for the authorize service itself (the request is sound)', async () => {
      const outcome = await attemptMint(tokenGrpc, await serviceCredentials('authorize'), tenant);
      expect(outcome).toMatchObject({ minted: { accessToken: expect.any(String) }, userinfo: 200 });
    });

    it('refuses a plaintext MintTokens call: no tokens for a user without a password', async () => {
      const outcome = await attemptMint(tokenGrpc, credentials.createInsecure(), tenant);
      expect(outcome).toEqual({ refused: status.UNAVAILABLE });
    });

    it('refuses a client whose certificate another CA issued, even trusting the right CA', async () => {
      const files = getTarget().stack.certificates;
      // Same CA name, same service name: only the signature tells them apart.
      const forger = await createDevCertificateAuthority('Gatehouse dev CA');
      const forged = await forger.issue('authorize');
      const channel = credentials.createSsl(
        await readFile(files.ca),
        Buffer.from(forged.key),
        Buffer.from(forged.cert),
      );
      expect(await attemptMint(tokenGrpc, channel, tenant)).toEqual({
        refused: status.UNAVAILABLE,
      });
    });

    it("refuses MintTokens to another service's valid certificate (keys)", async () => {
      const outcome = await attemptMint(tokenGrpc, await serviceCredentials('keys'), tenant);
      expect(outcome).toEqual({ refused: status.PERMISSION_DENIED });
    });

    it('will not start a gRPC service without its certificate, naming the setting', async () => {
      const main = join(repoRoot, 'services', 'token', 'dist', 'main.js');
      const { stack } = getTarget();
      const run = promisify(execFile)(process.execPath, [main], {
        env: {
          PATH: process.env.PATH,
          GATEHOUSE_KAFKA_BROKERS: stack.kafkaBrokers,
          GATEHOUSE_KAFKA_REPLICATION_FACTOR: '1',
          GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS: '1',
          GATEHOUSE_REDIS_URL: stack.redisUrl,
          GATEHOUSE_KEK: `kek-1:${Buffer.alloc(32, 1).toString('base64')}`,
          GATEHOUSE_TOKEN_PORT: '0',
          GATEHOUSE_TOKEN_GRPC_PORT: '0',
        },
        timeout: 30_000,
      });
      await expect(run).rejects.toMatchObject({
        code: 78,
        stderr: expect.stringMatching(
          /^token: configuration error: GATEHOUSE_GRPC_TLS_CA: is required \(gRPC between services is mutual TLS only/,
        ),
      });
    });

    it('does not listen on any address of this machine but loopback', async () => {
      const external = externalAddresses();
      const ports = getTarget()
        .stack.services()
        .flatMap((s) => [s.httpPort, s.grpcPort])
        .filter((port): port is number => port !== undefined);
      // Each port answers on loopback (the check below would prove nothing otherwise)...
      for (const port of ports) expect(await accepts('127.0.0.1', port)).toBe(true);
      // ...and on no other address, where there is one.
      const reachable: string[] = [];
      for (const address of external)
        for (const port of ports)
          if (await accepts(address, port)) reachable.push(`${address}:${port}`);
      expect(reachable).toEqual([]);
    });
  });
}
