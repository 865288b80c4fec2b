// gRPC KeyService (proto/gatehouse/keys/v1): the signing key of a server, still sealed under the KEK
// (it is opened only where tokens are signed), and its public keys. A caller that has seen a key event
// passes its position, and the answer includes it.
import {
  type GetSigningKeyRequest,
  type GetSigningKeyResponse,
  type KeyServiceServer,
  KeyServiceService,
  KeyStatus,
  type ListPublicKeysRequest,
  type ListPublicKeysResponse,
} from '@gatehouse/contracts';
import {
  type GrpcTls,
  grpcServerCredentials,
  timedImplementation,
} from '@gatehouse/internal-plane';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { ProjectionsBehindError, waitForProjections } from '@gatehouse/projections';
import { loadServerKeys } from '@gatehouse/signing-keys';
import { type handleUnaryCall, Server, type ServiceError, status } from '@grpc/grpc-js';

const statuses = {
  NEXT: KeyStatus.KEY_STATUS_NEXT,
  ACTIVE: KeyStatus.KEY_STATUS_ACTIVE,
  RETIRED: KeyStatus.KEY_STATUS_RETIRED,
} as const;

class CallError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

function unary<Req, Res>(answer: (request: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    answer(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const known = error instanceof CallError;
        const behind = error instanceof ProjectionsBehindError;
        callback({
          name: 'KeyServiceError',
          code: known ? error.code : behind ? status.UNAVAILABLE : status.INTERNAL,
          message: known ? error.message : behind ? 'the read model is behind' : 'internal error',
        } as ServiceError);
      },
    );
  };
}

export function keyServiceImplementation(deps: {
  store: ProjectionStore;
  readYourWritesMs: number;
}): KeyServiceServer {
  const load = async (request: {
    tenant: string;
    serverId: string;
    after: { topic: string; partition: number; offset: bigint }[];
  }) => {
    if (!request.tenant || !request.serverId)
      throw new CallError(status.INVALID_ARGUMENT, 'tenant and server_id are required');
    await waitForProjections(deps.store, request.after, { timeoutMs: deps.readYourWritesMs });
    return loadServerKeys(deps.store, request.tenant, request.serverId);
  };
  return {
    getSigningKey: unary<GetSigningKeyRequest, GetSigningKeyResponse>(async (request) => {
      const { active } = await load(request);
      if (!active)
        throw new CallError(
          status.NOT_FOUND,
          `${request.tenant}/${request.serverId} has no signing key`,
        );
      return { kid: active.kid, privateKey: active.privateKey, n: active.n, e: active.e };
    }),
    listPublicKeys: unary<ListPublicKeysRequest, ListPublicKeysResponse>(async (request) => {
      const { keys } = await load(request);
      return {
        keys: keys.map((key) => ({
          kid: key.kid,
          n: key.n,
          e: key.e,
          status: statuses[key.status],
        })),
      };
    }),
  };
}

/**
 * Serves KeyService on `address` (host:port; port 0 picks one) over mutual TLS with `tls`: any
 * service with a certificate of the same CA may call (the keys it hands out are sealed under the
 * KEK); anything else is refused in the handshake. Resolves with the bound port.
 */
export async function serveKeyService(
  implementation: KeyServiceServer,
  address: string,
  tls: GrpcTls,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new Server();
  server.addService(KeyServiceService, timedImplementation(KeyServiceService, implementation));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpcServerCredentials(tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
