// KeySource over gRPC KeyService, for services that do not read the keys' read model themselves.
import {
  type GetSigningKeyResponse,
  type KeyServiceClient,
  KeyStatus,
  type ListPublicKeysRequest,
  type ListPublicKeysResponse,
} from '@gatehouse/contracts';
import { status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { KeySource } from './key-ring.js';
import type { PublishedKey } from './read-model.js';

const statuses = {
  [KeyStatus.KEY_STATUS_NEXT]: 'NEXT',
  [KeyStatus.KEY_STATUS_ACTIVE]: 'ACTIVE',
  [KeyStatus.KEY_STATUS_RETIRED]: 'RETIRED',
} as const;

const noKey = { kekId: '', iv: Buffer.alloc(0), ciphertext: Buffer.alloc(0), tag: Buffer.alloc(0) };

export function grpcKeySource(
  client: KeyServiceClient,
  options: { timeoutMs?: number } = {},
): KeySource {
  const callOptions = () => ({ deadline: new Date(Date.now() + (options.timeoutMs ?? 5000)) });
  const list = (request: ListPublicKeysRequest) =>
    new Promise<ListPublicKeysResponse>((resolve, reject) =>
      client.listPublicKeys(request, new Metadata(), callOptions(), (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  const signing = (request: ListPublicKeysRequest) =>
    new Promise<GetSigningKeyResponse | undefined>((resolve, reject) =>
      client.getSigningKey(request, new Metadata(), callOptions(), (error, response) => {
        if (!error) resolve(response);
        else if ((error as ServiceError).code === grpcStatus.NOT_FOUND) resolve(undefined);
        else reject(error);
      }),
    );
  return {
    async load(tenant, serverId, after) {
      const request = { tenant, serverId, after: after.map((position) => ({ ...position })) };
      const [listed, current] = await Promise.all([list(request), signing(request)]);
      const keys: PublishedKey[] = listed.keys
        .filter((key) => key.status in statuses)
        .map((key) => ({
          kid: key.kid,
          n: key.n,
          e: key.e,
          status: statuses[key.status as keyof typeof statuses],
          privateKey: current?.kid === key.kid && current.privateKey ? current.privateKey : noKey,
          created: '',
          since: '',
        }));
      const active = keys.find((key) => key.kid === current?.kid && key.privateKey !== noKey);
      return { keys, ...(active ? { active } : {}), revoked: new Set() };
    },
  };
}
