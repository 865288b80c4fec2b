// The grant projection: refresh token families and revocation entries from gatehouse.grants and
// gatehouse.revocations, with the same values the token service writes at once. Entries expire with
// what they cover; an entry whose time is over when its event is applied (a replay long after) is not
// written at all, so its expiry is the one thing here that depends on when the event is applied.
// A family's records are written monotonically by the family's sequence (the event's aggregate
// version): the token service marks a token spent before its rotation is even appended, and a late,
// repeated or replayed event must never make it current again.
import type {
  DeviceSecretIssued,
  Envelope,
  GrantContext,
  RefreshTokenIssued,
} from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';
import type { WriteOp } from '@gatehouse/projection-store';
import { decodeGrantEvent } from './events.js';
import { type DeviceSecretRecord, grantKeys, type RefreshRecord } from './flow-state.js';

const epochMs = (date: Date | undefined) => date?.getTime() ?? 0;

/** The record of a family's current refresh token, from the event that issues it. */
export function refreshRecordOf(
  grantId: string,
  grant: GrantContext,
  issued: RefreshTokenIssued,
  sequence: number,
  state: RefreshRecord['state'] = 'current',
): RefreshRecord {
  return {
    grantId,
    state,
    sequence,
    serverId: grant.serverId,
    clientId: grant.clientId,
    userId: grant.userId,
    scopes: [...grant.scopes],
    authTime: Math.floor(epochMs(grant.authTime) / 1000),
    amr: [...grant.amr],
    bindingDigest: grant.bindingDigest,
    familyExpiresAt:
      issued.refreshTokenLifetimeSeconds === 0 ? null : epochMs(issued.familyExpiresAt),
    idleExpiresAt: epochMs(issued.idleExpiresAt),
    accessTokenLifetimeSeconds: issued.accessTokenLifetimeSeconds,
    refreshTokenLifetimeSeconds:
      issued.refreshTokenLifetimeSeconds === 0 ? null : issued.refreshTokenLifetimeSeconds,
    refreshTokenWindowSeconds: issued.refreshTokenWindowSeconds,
    ...(issued.dpopJkt ? { dpopJkt: issued.dpopJkt } : {}),
    ...(issued.deviceSecretSha256 ? { deviceSecretSha256: issued.deviceSecretSha256 } : {}),
  };
}

/** A spent token is kept until its family ends (90 days at most when the family never does). */
const spentUntil = (record: RefreshRecord, now: number) =>
  record.familyExpiresAt ?? now + 90 * 24 * 3600_000;

/**
 * The writes that make `issued` the family's current token and its predecessor spent, as of the
 * family's `sequence`. Both the token service (at once) and the projection (from the event) write
 * exactly these; each only where no newer sequence was written before.
 */
export function refreshWrites(
  tenant: string,
  grantId: string,
  grant: GrantContext,
  issued: RefreshTokenIssued,
  sequence: number,
  now: number,
): WriteOp[] {
  const current = refreshRecordOf(grantId, grant, issued, sequence);
  const writes: WriteOp[] = [];
  // Events of families from before sequences: written as they come, as they always were.
  const write = (key: string, record: RefreshRecord, ttlMs: number): WriteOp =>
    sequence > 0
      ? { op: 'setIfNewer', key, value: JSON.stringify(record), version: sequence, ttlMs }
      : { op: 'set', key, value: JSON.stringify(record), ttlMs };
  const currentUntil = Math.min(current.idleExpiresAt, current.familyExpiresAt ?? Infinity);
  if (currentUntil > now)
    writes.push(
      write(grantKeys.refresh(tenant, issued.refreshTokenSha256), current, currentUntil - now),
    );
  if (issued.replacesSha256 && spentUntil(current, now) > now)
    writes.push(
      write(
        grantKeys.refresh(tenant, issued.replacesSha256),
        { ...current, state: 'spent' },
        spentUntil(current, now) - now,
      ),
    );
  return writes;
}

/**
 * The record of a device secret (Native SSO), until it expires: written by the token service as it
 * issues it and again by the projector from TokensIssued (the same record: nothing changes it later;
 * it dies by its grant's revocation and its binding, SPEC section 6).
 */
export function deviceSecretWrites(
  tenant: string,
  grantId: string,
  grant: GrantContext,
  issued: DeviceSecretIssued,
  now: number,
): WriteOp[] {
  const expiresAt = epochMs(issued.expiresAt);
  if (expiresAt <= now) return [];
  const record: DeviceSecretRecord = {
    grantId,
    serverId: grant.serverId,
    clientId: grant.clientId,
    userId: grant.userId,
    bindingDigest: grant.bindingDigest,
    authTime: Math.floor(epochMs(grant.authTime) / 1000),
    amr: [...grant.amr],
    expiresAt,
  };
  return [
    {
      op: 'set',
      key: grantKeys.deviceSecret(tenant, issued.deviceSecretSha256),
      value: JSON.stringify(record),
      ttlMs: expiresAt - now,
    },
  ];
}

/** A revocation entry that lasts until `expiresAt` (epoch ms), or nothing when that has passed. */
export function revocationWrite(
  key: string,
  value: string,
  expiresAt: number,
  now: number,
): WriteOp[] {
  return expiresAt > now ? [{ op: 'set', key, value, ttlMs: expiresAt - now }] : [];
}

export function projectGrantEvent(envelope: Envelope, now = Date.now()): WriteOp[] {
  const event = decodeGrantEvent(envelope);
  if (!event) return [];
  const { tenant, aggregateId: grantId } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  switch (event.type) {
    case 'gatehouse.events.v1.TokensIssued':
      return [
        ...(event.data.refreshToken && event.data.grant
          ? refreshWrites(
              tenant,
              grantId,
              event.data.grant,
              event.data.refreshToken,
              Number(envelope.aggregateVersion),
              now,
            )
          : []),
        ...(event.data.deviceSecret && event.data.grant
          ? deviceSecretWrites(tenant, grantId, event.data.grant, event.data.deviceSecret, now)
          : []),
      ];
    case 'gatehouse.events.v1.TokenRevoked':
      return revocationWrite(
        grantKeys.revokedToken(tenant, event.data.jti),
        at,
        epochMs(event.data.expiresAt),
        now,
      );
    case 'gatehouse.events.v1.GrantRevoked':
      return revocationWrite(
        grantKeys.revokedGrant(tenant, grantId),
        event.data.reason,
        epochMs(event.data.expiresAt),
        now,
      );
    case 'gatehouse.events.v1.ConsentGranted':
      return [
        {
          op: 'sadd',
          key: grantKeys.consent(
            tenant,
            event.data.serverId,
            event.data.clientId,
            event.data.userId,
          ),
          members: event.data.scopes,
        },
      ];
    default:
      // Codes and device codes are flow state only: they live 60 s and 10 min, and the services that
      // issue and decide them write them directly.
      return [];
  }
}

export const grantsProjection = {
  name: 'grants',
  topics: [Topics.grants, Topics.revocations],
  keyPrefixes: ['fs:refresh:', 'fs:revoked-token:', 'fs:revoked-grant:', 'rm:consent:'],
  project: (envelope: Envelope) => projectGrantEvent(envelope),
} as const;
