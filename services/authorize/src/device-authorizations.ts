// The device authorization grant (RFC 8628) on the authorize service's side: a device's request
// kept as flow state (SPEC section 6: written to Redis directly, its event appended first), found
// again by its user code on the verification page, and decided there by a signed-in user whom the
// client and the server's policy allow, exactly as /authorize would allow them. The token service
// redeems what is decided here (services/token/src/grants/device-code.ts).
import type { EventBus } from '@gatehouse/event-bus';
import {
  type DeviceAuthorization,
  deviceCodeGrantType,
  deviceCodeLifetimeSeconds,
  devicePollIntervalSeconds,
  deviceRecordRetentionMs,
  evaluateAccessPolicy,
  type GrantEvent,
  grantKeys,
  newDeviceCode,
  newGrantId,
  newUserCode,
  normalizeUserCode,
  orgServerDecision,
  type PolicyGrant,
  sha256Hex,
} from '@gatehouse/grants';
import { TemporarilyUnavailable } from '@gatehouse/http';
import {
  currentBindingDigest,
  type DirectoryCache,
  isAssigned,
  loadSubject,
  type ServerConfig,
} from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { Authentication } from './flow-state.js';
import { appendGrantEvent } from './grant-log.js';

export interface DeviceAuthorizationsDeps {
  bus: EventBus;
  store: ProjectionStore;
  directory: DirectoryCache;
  now: () => number;
}

/** What the device is told (RFC 8628 section 3.2), less the verification URIs. */
export interface IssuedDeviceCode {
  deviceCode: string;
  /** Normalised: 8 characters of the user code alphabet. */
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** A pending device authorization a user code names, as the verification page reads it. */
export interface PendingDevice {
  deviceCodeSha256: string;
  record: DeviceAuthorization;
  /** The record as stored: the decision replaces exactly this (compare-and-set). */
  stored: string;
}

/** Whether the user may approve the device, and what the policy grants if so. */
export type DeviceVerdict =
  | { allowed: true; grant: PolicyGrant; config: ServerConfig }
  | { allowed: false; description: string };

const maxUserCodeTries = 5;

export class DeviceAuthorizations {
  constructor(private readonly deps: DeviceAuthorizationsDeps) {}

  /** A new device code and user code for `clientId` on `config`'s server, asking for `scopes`. */
  async issue(
    config: ServerConfig,
    clientId: string,
    scopes: string[],
    requestId: string | undefined,
  ): Promise<IssuedDeviceCode> {
    const { store, now } = this.deps;
    const { tenant, serverId } = config;
    const deviceCode = newDeviceCode();
    const deviceCodeSha256 = sha256Hex(deviceCode);
    const expiresAt = now() + deviceCodeLifetimeSeconds * 1000;
    const ttlMs = deviceCodeLifetimeSeconds * 1000;
    // A user code is short: claim it first, so that no two live device codes share one.
    let userCode = '';
    for (let attempt = 0; ; attempt += 1) {
      userCode = newUserCode();
      if (
        await store.setIfAbsent(grantKeys.userCode(tenant, sha256Hex(userCode)), deviceCodeSha256, {
          ttlMs,
        })
      )
        break;
      if (attempt === maxUserCodeTries)
        throw new TemporarilyUnavailable('No user code is free right now; try again shortly.');
    }
    const record: DeviceAuthorization = {
      grantId: newGrantId(),
      serverId,
      clientId,
      scopes,
      state: 'pending',
      bindingDigest: await currentBindingDigest(store, { tenant, serverId, clientId }),
      expiresAt,
      userCodeSha256: sha256Hex(userCode),
    };
    // The event first: a device code whose issue is not on record is never handed out.
    await appendGrantEvent(this.deps, tenant, record.grantId, requestId, {
      type: 'gatehouse.events.v1.DeviceAuthorizationIssued',
      data: {
        serverId,
        clientId,
        scopes,
        deviceCodeSha256,
        userCodeSha256: record.userCodeSha256,
        expiresAt: new Date(expiresAt),
        intervalSeconds: devicePollIntervalSeconds,
      },
    });
    await store.set(grantKeys.deviceCode(tenant, deviceCodeSha256), JSON.stringify(record), {
      ttlMs: ttlMs + deviceRecordRetentionMs,
    });
    return {
      deviceCode,
      userCode,
      expiresIn: deviceCodeLifetimeSeconds,
      interval: devicePollIntervalSeconds,
    };
  }

  /**
   * The pending device authorization a typed user code names, or undefined when there is none: a
   * wrong code, an expired one, one already decided, or one whose client changed since (SPEC
   * section 6) all look the same to the person typing.
   */
  async pending(tenant: string, typed: string): Promise<PendingDevice | undefined> {
    const { store, now } = this.deps;
    const userCode = normalizeUserCode(typed);
    if (!userCode) return undefined;
    const deviceCodeSha256 = await store.get(grantKeys.userCode(tenant, sha256Hex(userCode)));
    if (!deviceCodeSha256) return undefined;
    const stored = await store.get(grantKeys.deviceCode(tenant, deviceCodeSha256));
    if (!stored) return undefined;
    const record = JSON.parse(stored) as DeviceAuthorization;
    if (record.state !== 'pending' || record.expiresAt <= now()) return undefined;
    const digest = await currentBindingDigest(store, {
      tenant,
      serverId: record.serverId,
      clientId: record.clientId,
    });
    if (digest !== record.bindingDigest) return undefined;
    return { deviceCodeSha256, record, stored };
  }

  /**
   * Whether the signed-in user may give the device what it asked for, as /authorize decides it: the
   * server and client active, the user active and assigned to the client, and the server's policy
   * allowing the device grant and every scope for the user.
   */
  async verdict(
    tenant: string,
    device: DeviceAuthorization,
    authentication: Authentication,
  ): Promise<DeviceVerdict> {
    const { directory, store } = this.deps;
    const config = await directory.server(tenant, device.serverId);
    if (!config || config.server?.status === 'INACTIVE')
      return { allowed: false, description: 'The authorization server is not active.' };
    const client = await directory.client(tenant, device.clientId);
    if (client?.status !== 'ACTIVE')
      return { allowed: false, description: 'The application is not active.' };
    const subject = await loadSubject(store, tenant, authentication.userId, authentication);
    if (!subject) return { allowed: false, description: 'Your account is not active.' };
    const groupIds = subject.user.groups.map((group) => group.id);
    if (!(await isAssigned(store, tenant, client.id, subject.user.id, groupIds)))
      return {
        allowed: false,
        description: 'You are not assigned to this application. Ask your administrator.',
      };
    const decision = config.server
      ? evaluateAccessPolicy({
          policies: config.policies,
          rules: config.rules,
          serverScopes: config.scopes,
          clientId: client.id,
          grantType: deviceCodeGrantType,
          user: { id: subject.user.id, groupIds },
          requestedScopes: device.scopes,
        })
      : orgServerDecision(device.scopes);
    if (!decision.allowed) return { allowed: false, description: decision.description };
    return { allowed: true, grant: decision, config };
  }

  /** The user approved: the device's next poll gets its tokens. False when it was decided meanwhile. */
  async approve(
    tenant: string,
    device: PendingDevice,
    grant: PolicyGrant,
    authentication: Authentication,
    requestId: string | undefined,
  ): Promise<boolean> {
    const { record } = device;
    const approved: DeviceAuthorization = {
      ...record,
      state: 'approved',
      // The binding's generations now, the user's included: once any of them moves, it is dead.
      bindingDigest: await currentBindingDigest(this.deps.store, {
        tenant,
        serverId: record.serverId,
        clientId: record.clientId,
        userId: authentication.userId,
      }),
      approval: {
        userId: authentication.userId,
        scopes: grant.scopes,
        authTime: authentication.authTime,
        amr: authentication.amr,
        accessTokenLifetimeSeconds: grant.accessTokenLifetimeSeconds,
        refreshTokenLifetimeSeconds: grant.refreshTokenLifetimeSeconds,
        refreshTokenWindowSeconds: grant.refreshTokenWindowSeconds,
      },
    };
    return this.decide(tenant, device, approved, requestId, {
      type: 'gatehouse.events.v1.DeviceAuthorizationApproved',
      data: {
        deviceCodeSha256: device.deviceCodeSha256,
        grant: {
          serverId: record.serverId,
          clientId: record.clientId,
          userId: authentication.userId,
          scopes: grant.scopes,
          grantType: deviceCodeGrantType,
          bindingDigest: approved.bindingDigest,
          authTime: new Date(authentication.authTime * 1000),
          amr: authentication.amr,
        },
      },
    });
  }

  /** The user denied: the device's next poll gets access_denied. */
  async deny(
    tenant: string,
    device: PendingDevice,
    userId: string,
    requestId: string | undefined,
  ): Promise<boolean> {
    return this.decide(tenant, device, { ...device.record, state: 'denied' }, requestId, {
      type: 'gatehouse.events.v1.DeviceAuthorizationDenied',
      data: { deviceCodeSha256: device.deviceCodeSha256, userId },
    });
  }

  /**
   * Writes the decision over the pending record, once: of two decisions (two tabs), one wins. The
   * event first, as for codes; the user code is spent with the decision. A decision that loses the
   * race after its event was appended leaves that event without effect: nothing is projected from
   * these events, the record is what the token service reads.
   */
  private async decide(
    tenant: string,
    device: PendingDevice,
    decided: DeviceAuthorization,
    requestId: string | undefined,
    event: GrantEvent,
  ): Promise<boolean> {
    const { store, now } = this.deps;
    const ttlMs = decided.expiresAt - now() + deviceRecordRetentionMs;
    const current = await store.get(grantKeys.deviceCode(tenant, device.deviceCodeSha256));
    if (current !== device.stored || ttlMs <= 0) return false;
    await appendGrantEvent(this.deps, tenant, decided.grantId, requestId, event);
    const won = await store.compareAndSet(
      grantKeys.deviceCode(tenant, device.deviceCodeSha256),
      device.stored,
      JSON.stringify(decided),
      { ttlMs },
    );
    if (won) await store.del([grantKeys.userCode(tenant, decided.userCodeSha256)]);
    return won;
  }
}
