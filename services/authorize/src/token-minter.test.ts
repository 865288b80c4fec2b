// The gRPC token minter against a real gRPC server (the token service's contract, a stand-in
// implementation): what a sign-in sees when the token service restarts.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MintTokensRequest,
  MintTokensResponse,
  type TokenServiceServer,
  TokenServiceService,
} from '@gatehouse/contracts';
import { grpcServerCredentials } from '@gatehouse/internal-plane';
import { testGrpcTls } from '@gatehouse/testkit';
import { Server, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcTokenMinter, type TokenMinter } from './token-minter.js';

const unimplemented = (_call: unknown, callback: (error: unknown) => void) =>
  callback({ code: status.UNIMPLEMENTED, details: 'not in this test' });

/** A TokenService that mints a fixed answer, on `port` (0: any). */
async function serveMinting(port: number): Promise<{ port: number; server: Server }> {
  const implementation = {
    mintTokens: (
      call: { request: MintTokensRequest },
      callback: (error: null, response: MintTokensResponse) => void,
    ) =>
      callback(
        null,
        MintTokensResponse.fromPartial({ accessToken: 'at', grantId: call.request.clientId }),
      ),
    validateToken: unimplemented,
  } as unknown as TokenServiceServer;
  const tls = await testGrpcTls('token');
  const server = new Server();
  server.addService(TokenServiceService, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpcServerCredentials(tls), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return { port: bound, server };
}

describe('gRPC token minter', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('mints right after the token service comes back, however long it was down', async () => {
    const first = await serveMinting(0);
    const minter: TokenMinter = grpcTokenMinter(
      `127.0.0.1:${first.port}`,
      await testGrpcTls('authorize'),
      5_000,
    );
    cleanups.push(() => minter.close());
    const request = MintTokensRequest.fromPartial({ clientId: 'c1' });
    expect((await minter.mintTokens(request)).grantId).toBe('c1');

    // The token service dies, and stays down long enough for the channel's reconnect attempts to
    // back off (a deploy, a crash and restart).
    first.server.forceShutdown();
    await sleep(4_000);
    // It comes back on the same address while the channel waits out its backoff: the next
    // sign-in's tokens are minted, not refused with temporarily_unavailable.
    const second = await serveMinting(first.port);
    cleanups.push(() => second.server.forceShutdown());
    expect(minter.channelState?.().state).toBe('TRANSIENT_FAILURE');
    expect(
      (await minter.mintTokens(MintTokensRequest.fromPartial({ clientId: 'c2' }))).grantId,
    ).toBe('c2');
  });
});
