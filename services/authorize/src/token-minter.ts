// How the authorize service gets the tokens of the implicit and hybrid flows: TokenService.MintTokens
// on the token service, over gRPC (distributed) or in the same process (all-in-one, tests). A refusal
// comes back as an OAuthError carrying the token service's OAuth error code.
import {
  type MintTokensRequest,
  type MintTokensResponse,
  TokenServiceClient,
  type TokenServiceServer,
} from '@gatehouse/contracts';
import { OAuthError, ServerError, TemporarilyUnavailable } from '@gatehouse/http';
import {
  type GrpcTarget,
  type GrpcTls,
  grpcChannelCredentials,
  grpcTarget,
  rpcClientMetrics,
} from '@gatehouse/internal-plane';
import { grpcClientTracing } from '@gatehouse/tracing';
import { connectivityState, Metadata, type ServiceError, status } from '@grpc/grpc-js';

export interface TokenMinter {
  mintTokens(request: MintTokensRequest): Promise<MintTokensResponse>;
  close(): void;
  /** The gRPC channel's state, for /readyz (absent when minting in the same process). */
  channelState?(): { ok: boolean; state: string; address: string; reason?: string };
}

const refusal = (error: Partial<ServiceError>) => {
  const code = error.metadata?.get('oauth-error')[0];
  // The token service's own code, whichever it is (the refusal is the token service's to name).
  if (typeof code === 'string' && code !== 'server_error')
    return new OAuthError(400, code, error.details || 'The token service refused the request.');
  if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED)
    return new TemporarilyUnavailable('The token service is unavailable; try again shortly.');
  return new ServerError('The token service failed.');
};

/**
 * MintTokens over gRPC at `peer` (host:port, or the replicas' `ip:port,ip:port`, round-robin), each
 * call bounded by `deadlineMs`, over mutual TLS with `tls` (the token service answers MintTokens
 * only to a certificate naming `authorize`). A call a replica received and then lost by dying fails
 * UNAVAILABLE, answered 503: MintTokens is not idempotent, so it is never retried (see grpc-target).
 */
export function grpcTokenMinter(
  peer: string | GrpcTarget,
  tls: GrpcTls,
  deadlineMs = 5_000,
  log: (entry: Record<string, unknown>) => void = () => {},
): TokenMinter {
  const target = typeof peer === 'string' ? grpcTarget(peer, 'GATEHOUSE_TOKEN_GRPC_URL') : peer;
  const address = target.addresses.join(',');
  const client = new TokenServiceClient(target.target, grpcChannelCredentials(tls), {
    ...target.channelOptions,
    interceptors: [grpcClientTracing('authorize'), rpcClientMetrics()],
  });
  // The channel connects now, not at the first sign-in that needs it (DNS, TCP and TLS out of the
  // first call's deadline); a failure here is only logged: calls connect again by themselves.
  client.waitForReady(Date.now() + 30_000, (error) => {
    if (error) log({ level: 'warn', message: 'token service not reachable yet', address });
  });
  return {
    mintTokens: (request) =>
      new Promise((resolve, reject) => {
        client.mintTokens(
          request,
          // A call waits for a ready connection (within its deadline) rather than failing while the
          // channel is between reconnect attempts: a token service that just came back mints the
          // next sign-in's tokens. Nothing is sent before the connection is ready, so nothing is
          // ever minted twice; a call a replica received and lost still fails UNAVAILABLE.
          new Metadata({ waitForReady: true }),
          { deadline: Date.now() + deadlineMs },
          (error, response) => {
            if (!error) return resolve(response);
            if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED)
              log({
                level: 'warn',
                message: 'MintTokens failed',
                address,
                grpcCode: status[error.code],
                details: error.details,
              });
            reject(refusal(error));
          },
        );
      }),
    close: () => client.close(),
    channelState: () => {
      const state = connectivityState[client.getChannel().getConnectivityState(false)];
      const ok = state !== 'TRANSIENT_FAILURE' && state !== 'SHUTDOWN';
      return ok
        ? { ok, state, address }
        : { ok, state, address, reason: `the token service's gRPC channel is ${state}` };
    },
  };
}

/** MintTokens on handlers in this process (the token service's `tokenService`). */
export function localTokenMinter(handlers: TokenServiceServer): TokenMinter {
  return {
    mintTokens: (request) =>
      new Promise((resolve, reject) => {
        handlers.mintTokens(
          {
            request,
            metadata: new Metadata(),
            // In one process no certificate is shown: the caller is this authorize service itself.
            getAuthContext: () => ({ sslPeerCertificate: { subject: { CN: 'authorize' } } }),
            getPath: () => '/gatehouse.token.v1.TokenService/MintTokens',
          } as unknown as Parameters<typeof handlers.mintTokens>[0],
          (error, response) =>
            error || !response ? reject(refusal(error ?? {})) : resolve(response),
        );
      }),
    close: () => {},
  };
}
