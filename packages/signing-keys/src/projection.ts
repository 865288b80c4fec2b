// The signing key projection: key events to the writes of the read model in read-model.ts.
import type { Envelope } from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';
import type { WriteOp } from '@gatehouse/projection-store';
import { decodeKeyEvent } from './events.js';
import {
  keyReadModel,
  keysReadModelPrefix,
  type StoredKey,
  type StoredStatus,
} from './read-model.js';
import { keysWriteModel, readsKeyEvent } from './write-model.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function projectKeyEvent(envelope: Envelope): WriteOp[] {
  const event = decodeKeyEvent(envelope);
  if (!event) return [];
  const { tenant, aggregateId: serverId } = envelope;
  const key = keyReadModel.server(tenant, serverId);
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  const status = (value: StoredStatus) => JSON.stringify(value);
  switch (event.type) {
    case 'gatehouse.events.v1.SigningKeyCreated': {
      const sealed = event.data.privateKey!;
      const stored: StoredKey = {
        kid: event.data.kid,
        n: event.data.n,
        e: event.data.e,
        privateKey: {
          kekId: sealed.kekId,
          iv: b64(sealed.iv),
          ciphertext: b64(sealed.ciphertext),
          tag: b64(sealed.tag),
        },
        created: at,
      };
      return [
        {
          op: 'hset',
          key,
          fields: {
            [`k:${event.data.kid}`]: JSON.stringify(stored),
            [`s:${event.data.kid}`]: status({ status: 'NEXT', since: at }),
          },
        },
        { op: 'sadd', key: keyReadModel.servers(), members: [`${tenant}/${serverId}`] },
      ];
    }
    case 'gatehouse.events.v1.SigningKeyActivated':
      return [
        {
          op: 'hset',
          key,
          fields: {
            [`s:${event.data.kid}`]: status({ status: 'ACTIVE', since: at }),
            active: event.data.kid,
          },
        },
      ];
    case 'gatehouse.events.v1.SigningKeyRetired':
      return [
        {
          op: 'hset',
          key,
          fields: {
            [`s:${event.data.kid}`]: status({
              status: 'RETIRED',
              since: at,
              removeAfter: (event.data.removeAfter ?? new Date(0)).toISOString(),
            }),
          },
        },
      ];
    case 'gatehouse.events.v1.SigningKeyRemoved':
      return [{ op: 'hdel', key, fields: [`k:${event.data.kid}`, `s:${event.data.kid}`] }];
    case 'gatehouse.events.v1.SigningKeyRevoked':
      return [{ op: 'hset', key, fields: { [`r:${event.data.kid}`]: at } }];
  }
}

/** The keys read model: only admitted commands' events, as the keys write model decides them. */
export const keysProjection = {
  name: 'signing-keys',
  topics: [Topics.keys, Topics.revocations],
  keyPrefixes: [keysReadModelPrefix],
  project: projectKeyEvent,
  accepts: readsKeyEvent,
  writeModel: keysWriteModel,
} as const;
