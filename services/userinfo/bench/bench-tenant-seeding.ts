// BENCH ONLY: fills an event log with many tenants for `pnpm bench:tenants`, as the admin and keys
// services would have: each tenant's directory events (the tenant, its default authorization server,
// a service client) and its org and default servers' key events, straight onto the log, for the
// projector to project. What is not real is where the keys come from: RSA-2048 pairs generated once
// and cached on disk (~/.cache/gatehouse/bench-keys, or $XDG_CACHE_HOME), a few of them reused by
// every tenant, each sealed for its own place (tenant/server/kid) under the run's KEK as the keys
// service seals a new one. Generating four real keys per tenant would take an hour on this machine.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ClientMetadata } from '@gatehouse/contracts';
import {
  decideClient,
  decideNewTenant,
  encodeDirectoryEvent,
  readClientMetadata,
} from '@gatehouse/directory';
import type { EventBus } from '@gatehouse/event-bus';
import { newEnvelope, Topics } from '@gatehouse/events';
import {
  decideServerKeys,
  encodeKeyEvent,
  generateKeyMaterial,
  initialServerKeysState,
  type KeyEncryptionKeys,
  type KeyMaterial,
  keyPlace,
  orgServerId,
  sealKeyMaterial,
} from '@gatehouse/signing-keys';

/** How many cached key pairs the seeded tenants share: two per server, distinct within it. */
const CACHED_KEYS = 16;
/** Tenants per publish call: key events carry ~1.5 KB each, a batch stays well under 1 MB. */
const TENANTS_PER_BATCH = 100;
/** Batches in flight at once. */
const BATCHES_IN_FLIGHT = 4;

const cacheDir = () =>
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse', 'bench-keys');

interface CachedKey {
  n: string;
  e: string;
  der: string;
}

/** The cached key pairs, generated (once, on libuv's pool) where fewer than needed are on disk. */
export async function benchKeyMaterials(
  log: (line: string) => void,
  count = CACHED_KEYS,
): Promise<readonly CachedKey[]> {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const present = readdirSync(dir)
    .filter((name) => /^rsa-2048-\d+\.json$/.test(name))
    .sort();
  const keys = present
    .slice(0, count)
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CachedKey);
  if (keys.length < count) {
    log(`generating ${count - keys.length} bench signing keys into ${dir} (once)`);
    const generated = await Promise.all(
      Array.from({ length: count - keys.length }, () => generateKeyMaterial()),
    );
    for (const material of generated) {
      const key = {
        n: material.n,
        e: material.e,
        der: Buffer.from(material.der).toString('base64'),
      };
      const name = `rsa-2048-${String(keys.length).padStart(3, '0')}.json`;
      writeFileSync(join(dir, name), JSON.stringify(key), { mode: 0o600 });
      keys.push(key);
    }
  }
  return keys;
}

const material = (key: CachedKey): KeyMaterial => ({
  n: key.n,
  e: key.e,
  // sealKeyMaterial wipes what it is given: a fresh copy each time.
  der: Buffer.from(key.der, 'base64'),
});

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');
const serviceClientMetadata = (() => {
  const { metadata, problems } = readClientMetadata({
    client_name: 'Seeded service',
    application_type: 'service',
  });
  if (!metadata) throw new Error(`bad client metadata: ${JSON.stringify(problems)}`);
  return metadata as ClientMetadata;
})();

/** One seeded tenant's events, by topic, as the admin and keys services append them. */
function seededTenant(
  tenant: string,
  index: number,
  keys: readonly CachedKey[],
  keks: KeyEncryptionKeys,
) {
  const directory = decideNewTenant(
    {
      id: tenant,
      name: `Seeded ${index}`,
      apiTokenSha256: sha256Hex(randomBytes(16).toString('hex')),
    },
    { status: 'NONE' },
  );
  const clientId = `0oa${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
  directory.push(
    ...decideClient(
      {
        kind: 'RegisterClient',
        id: clientId,
        metadata: serviceClientMetadata,
        secretSha256: sha256Hex(randomBytes(16).toString('hex')),
      },
      { status: 'NONE' } as Parameters<typeof decideClient>[1],
    ).map((event) => ({ aggregateId: clientId, event })),
  );
  const keyEnvelopes = [orgServerId, 'default'].flatMap((serverId, s) => {
    const first = (index * 2 + s) % keys.length;
    const seal = (key: CachedKey) =>
      sealKeyMaterial(material(key), keks, (kid) => keyPlace(tenant, serverId, kid));
    return decideServerKeys(
      {
        kind: 'ProvisionKeys',
        active: seal(keys[first]!),
        next: seal(keys[(first + 1) % keys.length]!),
      },
      initialServerKeysState,
    ).map((event) =>
      newEnvelope({ type: event.type, tenant, aggregateId: serverId, data: encodeKeyEvent(event) }),
    );
  });
  return {
    directory: directory.map(({ aggregateId, event }) =>
      newEnvelope({ type: event.type, tenant, aggregateId, data: encodeDirectoryEvent(event) }),
    ),
    keys: keyEnvelopes,
  };
}

/**
 * Appends `count` tenants (ids `${prefix}${i}`) to the log; resolves once every event is appended
 * (not yet projected). Returns how many events it appended.
 */
export async function seedTenants(options: {
  bus: EventBus;
  keks: KeyEncryptionKeys;
  count: number;
  prefix: string;
  log: (line: string) => void;
}): Promise<number> {
  const keys = await benchKeyMaterials(options.log);
  let events = 0;
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const from = next;
      next = Math.min(options.count, next + TENANTS_PER_BATCH);
      const tenants = Array.from({ length: next - from }, (_, i) =>
        seededTenant(`${options.prefix}${from + i}`, from + i, keys, options.keks),
      );
      const directory = tenants.flatMap((t) => t.directory);
      const keyEvents = tenants.flatMap((t) => t.keys);
      // A tenant's directory first: the keys service provisions after it saw TenantCreated.
      await options.bus.publish(Topics.directory, directory);
      await options.bus.publish(Topics.keys, keyEvents);
      events += directory.length + keyEvents.length;
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, worker));
  return events;
}
