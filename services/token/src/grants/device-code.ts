// urn:ietf:params:oauth:grant-type:device_code (RFC 8628 section 3.4): the device polls with its
// device code until the user has decided on the verification page. Pending: authorization_pending,
// or slow_down when it polls faster than its interval, which then grows by 5 s (section 3.5; each
// code's last poll is remembered). Denied: access_denied. Past its 10 minutes: expired_token.
// Approved: tokens, once: the exchange swaps the record for a "redeemed" one with compare-and-set,
// as a code's exchange does, and a redeemed device code shown again revokes what it gave. A device
// code dies with its client, and once approved with its user (SPEC section 6: the binding digest).
import {
  type DeviceAuthorization,
  type DevicePoll,
  deviceCodeGrantType,
  devicePollIntervalSeconds,
  deviceRecordRetentionMs,
  grantKeys,
  sha256Hex,
  slowDownStepSeconds,
} from '@gatehouse/grants';
import {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InvalidGrant,
  InvalidRequest,
  SlowDown,
} from '@gatehouse/http';
import { currentBindingDigest, loadSubject } from '@gatehouse/oauth-reads';
import type { Revocations } from '../revocations.js';
import { grantStillValid } from '../token-checks.js';
import { lifetimesOf } from '../token-issuer.js';
import {
  type GrantHandler,
  type GrantRequest,
  refreshTokenFor,
  requireGrantType,
  undoneOnFailure,
} from './grant-context.js';

const invalidDeviceCode = () => new InvalidGrant('The device code is invalid or has expired.');

/**
 * Counts a poll of a pending code: slow_down when it came before the interval since the last one
 * (and the interval grows), else authorization_pending. Either way this poll is the last one now.
 */
async function pendingAnswer(
  request: GrantRequest,
  deviceCodeSha256: string,
  expiresAt: number,
): Promise<never> {
  const { store, config } = request;
  const now = request.now();
  const key = grantKeys.devicePoll(config.tenant, deviceCodeSha256);
  const kept = await store.get(key);
  const last = kept ? (JSON.parse(kept) as DevicePoll) : undefined;
  const early = last !== undefined && now - last.at < last.intervalSeconds * 1000;
  const intervalSeconds =
    (last?.intervalSeconds ?? devicePollIntervalSeconds) + (early ? slowDownStepSeconds : 0);
  await store.set(key, JSON.stringify({ at: now, intervalSeconds } satisfies DevicePoll), {
    ttlMs: Math.max(expiresAt - now, 1000),
  });
  if (early)
    throw new SlowDown(
      `Polled faster than the interval: wait at least ${intervalSeconds} seconds between polls.`,
    );
  throw new AuthorizationPending('The user has not yet approved or denied the device.');
}

export function deviceCodeGrant(revocations: Revocations): GrantHandler {
  return async (request) => {
    const { form, config, authenticated, store } = request;
    requireGrantType(request, deviceCodeGrantType);
    const deviceCode = form.get('device_code');
    if (!deviceCode) throw new InvalidRequest('The device_code parameter is required.');
    if (deviceCode.length > 256) throw invalidDeviceCode();
    const deviceCodeSha256 = sha256Hex(deviceCode);
    const key = grantKeys.deviceCode(config.tenant, deviceCodeSha256);
    const stored = await store.get(key);
    if (stored === null) throw invalidDeviceCode();
    const record = JSON.parse(stored) as DeviceAuthorization;
    // Another client's code (or another server's) is refused without a trace on it.
    if (record.clientId !== authenticated.client.id || record.serverId !== config.serverId)
      throw invalidDeviceCode();
    if (record.state === 'redeemed') {
      await revocations.revokeGrant(
        config.tenant,
        record.grantId,
        'code_replayed',
        null,
        request.requestId,
      );
      throw new InvalidGrant('The device code was already used; the tokens it gave were revoked.');
    }
    if (record.expiresAt <= request.now())
      throw new ExpiredToken('The device code has expired: start a new device authorization.');
    if (record.state !== 'approved') {
      // Implicit invalidation (SPEC section 6): a change of the server or the client ends it.
      const digest = await currentBindingDigest(store, {
        tenant: config.tenant,
        serverId: config.serverId,
        clientId: record.clientId,
      });
      if (digest !== record.bindingDigest) throw invalidDeviceCode();
      if (record.state === 'denied')
        throw new AccessDenied('The user denied the device authorization.');
      return pendingAnswer(request, deviceCodeSha256, record.expiresAt);
    }
    const approval = record.approval!;
    const grant = { ...record, userId: approval.userId };
    if (!(await grantStillValid(store, config, grant, request.guard))) throw invalidDeviceCode();
    // Everything the exchange reads is read before the code is spent.
    const subject = await loadSubject(store, config.tenant, approval.userId, approval);
    if (!subject) throw new InvalidGrant('The user of this authorization is not active.');
    const redeemed = JSON.stringify({
      ...record,
      state: 'redeemed',
    } satisfies DeviceAuthorization);
    const retainedMs = Math.max(record.expiresAt - request.now(), 0) + deviceRecordRetentionMs;
    if (!(await store.compareAndSet(key, stored, redeemed, { ttlMs: retainedMs })))
      throw new InvalidGrant('The device code was already used.');

    const issue = () =>
      request.issuer.issue({
        config,
        client: authenticated.client,
        grantId: record.grantId,
        grantType: deviceCodeGrantType,
        scopes: approval.scopes,
        subject,
        lifetimes: lifetimesOf(approval),
        ...(approval.scopes.includes('openid') ? { idToken: {} } : {}),
        ...refreshTokenFor(request, approval.scopes),
        preceding: [{ type: 'gatehouse.events.v1.DeviceCodeRedeemed', data: { deviceCodeSha256 } }],
        bindingDigest: record.bindingDigest,
        causationId: request.requestId,
      });
    return undoneOnFailure(issue, {
      store,
      key,
      spent: redeemed,
      previous: stored,
      ttlMs: () => record.expiresAt - request.now() + deviceRecordRetentionMs,
    });
  };
}
