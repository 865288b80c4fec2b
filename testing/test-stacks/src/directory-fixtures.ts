// A tenant's directory for suites that run the OAuth services without the admin service: tenants
// (with their org and default servers' keys), users, clients and assignments, appended the way the
// admin service decides them, and waited for until the projector has applied them.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ClientMetadata } from '@gatehouse/contracts';
import {
  type DirectoryEvent,
  decideClient,
  decideNewTenant,
  decideServer,
  decideUser,
  defaultAccessPolicy,
  hashPassword,
  newId,
  newServerSystemScopes,
  readClientMetadata,
} from '@gatehouse/directory';
import type { EventBus, EventPosition } from '@gatehouse/event-bus';
import { allTopics } from '@gatehouse/events';
import { type CodeRecord, grantKeys, newGrantId } from '@gatehouse/grants';
import { currentBindingDigest } from '@gatehouse/oauth-reads';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { caughtUpAtKey, waitForProjections } from '@gatehouse/projections';
import { type KeyEncryptionKeys, sealClientSecret } from '@gatehouse/signing-keys';
import { appendDirectoryEvents, provisionServerKeys } from './fixtures.js';

/** The password every fixture user gets. */
export const fixturePassword = 'Correct-Horse-9';

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');
const oktaStyleId = (prefix: string) =>
  `${prefix}${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;

export function directoryFixtures(deps: {
  bus: EventBus;
  store: ProjectionStore;
  keks: KeyEncryptionKeys;
  /** The clock of the services and of the projector's beacon. Default `Date.now`. */
  now?: () => number;
}) {
  const { bus, store, keks } = deps;
  const now = deps.now ?? Date.now;

  /** Every event appended so far, applied by the projector. */
  const caughtUp = async () => {
    const positions: EventPosition[] = [];
    for (const topic of allTopics) {
      for (const [partition, end] of await bus.endOffsets(topic)) {
        if (end > 0n) positions.push({ topic, partition, offset: end - 1n });
      }
    }
    await waitForProjections(store, positions, { timeoutMs: 20_000 });
    // And the projector's caught-up beacon says so too, as token checks require (SPEC section 6):
    // a beacon from after this call, and then one more, so that it is fresh on return even when
    // the first took long to come (a beacon is as old as the moment its sample was taken).
    // The beacon is on the projector's clock; the deadline is real time.
    const deadline = Date.now() + 20_000;
    for (const asked of [now(), undefined]) {
      const since = asked ?? now();
      while (Number((await store.get(caughtUpAtKey)) ?? '0') < since) {
        if (Date.now() > deadline)
          throw new Error('the projector did not report being caught up within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };

  const appendDirectory = (
    tenant: string,
    changes: { aggregateId: string; event: DirectoryEvent; version?: number }[],
  ) => appendDirectoryEvents(bus, tenant, changes);
  const provisionKeys = (tenant: string, serverId: string) =>
    provisionServerKeys(bus, keks, tenant, serverId);

  /** A tenant with its default server, both with signing keys. */
  const newTenant = async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const apiTokenSha256 = sha256Hex(randomBytes(32).toString('base64url'));
    await appendDirectory(
      id,
      decideNewTenant({ id, name: `Tenant ${id}`, apiTokenSha256 }, { status: 'NONE' }),
    );
    await provisionKeys(id, 'org');
    await provisionKeys(id, 'default');
    await caughtUp();
    return id;
  };

  /**
   * Another custom authorization server of the tenant, with signing keys, the system scopes and
   * Okta's default policy (every client, everyone, every grant type); gives its id.
   */
  const newServer = async (tenant: string, audience: string) => {
    const id = oktaStyleId('aus');
    const events = decideServer(
      {
        kind: 'CreateServer',
        id,
        settings: { name: id, description: `Server ${id}`, audiences: [audience] },
        systemScopes: newServerSystemScopes(() => newId('scp')),
        defaultPolicy: defaultAccessPolicy({
          policyId: newId('00p'),
          ruleId: newId('0pr'),
          everyoneGroupId: 'EVERYONE',
        }),
      },
      { status: 'NONE' } as Parameters<typeof decideServer>[1],
    );
    await appendDirectory(
      tenant,
      events.map((event) => ({ aggregateId: id, event })),
    );
    await provisionKeys(tenant, id);
    await caughtUp();
    return id;
  };

  /** Registers a client (RFC 7591 metadata as the API takes it); its secret is shown here once. */
  const newClient = async (tenant: string, input: Record<string, unknown>) => {
    const { metadata, problems } = readClientMetadata(input);
    if (!metadata) throw new Error(`bad client metadata: ${JSON.stringify(problems)}`);
    const id = oktaStyleId('0oa');
    // Public and private_key_jwt clients have no secret.
    const secret = metadata.tokenEndpointAuthMethod.startsWith('client_secret_')
      ? randomBytes(32).toString('base64url')
      : undefined;
    const events = decideClient(
      {
        kind: 'RegisterClient',
        id,
        metadata: metadata as ClientMetadata,
        secretSha256: secret ? sha256Hex(secret) : '',
        // Sealed as the admin service seals every secret, for client_secret_jwt.
        ...(secret ? { secretSealed: sealClientSecret(secret, keks, tenant, id) } : {}),
      },
      { status: 'NONE' } as Parameters<typeof decideClient>[1],
    );
    await appendDirectory(
      tenant,
      events.map((event, i) => ({ aggregateId: id, event, version: i + 1 })),
    );
    await caughtUp();
    return { clientId: id, clientSecret: secret };
  };

  /** An ACTIVE user with `fixturePassword` (a cheap scrypt cost: tests hash it often). */
  const newUser = async (tenant: string, login: string, profile: Record<string, unknown> = {}) => {
    const id = oktaStyleId('00u');
    const events = decideUser(
      {
        kind: 'CreateUser',
        id,
        profile: {
          login,
          email: login,
          firstName: 'Ada',
          lastName: 'Lovelace',
          ...profile,
        } as Parameters<typeof decideUser>[0] extends { profile: infer P } ? P : never,
        // With a password: a user created without one stays PROVISIONED, and gets no tokens.
        passwordHash: await hashPassword(fixturePassword, { log2N: 12, r: 8, p: 1 }),
        activate: true,
      },
      { status: 'NONE' } as Parameters<typeof decideUser>[1],
    );
    await appendDirectory(
      tenant,
      events.map((event) => ({ aggregateId: id, event })),
    );
    await caughtUp();
    return id;
  };

  /** Assigns a user, or a group, to a client (the app assignment API's events). */
  const assign = async (
    tenant: string,
    clientId: string,
    to: { userId: string } | { groupId: string },
  ) => {
    const event: DirectoryEvent =
      'userId' in to
        ? { type: 'gatehouse.events.v1.AppUserAssigned', data: { userId: to.userId } }
        : { type: 'gatehouse.events.v1.AppGroupAssigned', data: { groupId: to.groupId } };
    await appendDirectory(tenant, [{ aggregateId: clientId, event }]);
    await caughtUp();
  };

  /** An authorization code, as the authorize service issues it through the code store. */
  const issueCode = async (
    tenant: string,
    code: Partial<CodeRecord> & Pick<CodeRecord, 'clientId' | 'userId' | 'redirectUri' | 'scopes'>,
    verifier?: string,
  ) => {
    const value = randomBytes(32).toString('base64url');
    const issuedAt = now();
    const serverId = code.serverId ?? 'default';
    const record: CodeRecord = {
      grantId: newGrantId(),
      serverId,
      // As the authorize service does: the binding's generations as they are at issue.
      bindingDigest: await currentBindingDigest(store, {
        tenant,
        serverId,
        clientId: code.clientId,
        userId: code.userId,
      }),
      authTime: Math.floor(issuedAt / 1000) - 5,
      amr: ['pwd'],
      expiresAt: issuedAt + 60_000,
      accessTokenLifetimeSeconds: 3600,
      refreshTokenLifetimeSeconds: 90 * 24 * 3600,
      refreshTokenWindowSeconds: 7 * 24 * 3600,
      ...(verifier
        ? { codeChallenge: createHash('sha256').update(verifier).digest('base64url') }
        : {}),
      ...code,
    };
    await store.set(grantKeys.code(tenant, sha256Hex(value)), JSON.stringify(record), {
      ttlMs: 60_000,
    });
    return { code: value, record };
  };

  return {
    caughtUp,
    appendDirectory,
    provisionKeys,
    newTenant,
    newServer,
    newClient,
    newUser,
    assign,
    issueCode,
  };
}
