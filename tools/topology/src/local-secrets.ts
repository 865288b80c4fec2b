// The secrets a local deployment (`pnpm start`, `pnpm stack`) was not given: generated on first
// start and kept in `{dataDir}/secrets.json` (readable by the owner only), so that a restart opens
// the keys it sealed and accepts the same admin token.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A GATEHOUSE_KEK value with one fresh 256-bit key: `id:base64key`. */
const newKekSetting = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

export interface Secrets {
  adminToken: string;
  /** A GATEHOUSE_KEK value: `id:base64key`. */
  kek: string;
}

export async function loadOrCreateSecrets(
  dataDir: string,
  given: Partial<Secrets>,
): Promise<Secrets & { created: boolean }> {
  const file = join(dataDir, 'secrets.json');
  let kept: Partial<Secrets> = {};
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as Partial<Secrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} cannot be read: ${(error as Error).message}`);
    }
  }
  // Only what was generated here is kept on disk; a secret given in the environment never is.
  const toKeep: Partial<Secrets> = { ...kept };
  if (!given.adminToken && !kept.adminToken)
    toKeep.adminToken = randomBytes(32).toString('base64url');
  if (!given.kek && !kept.kek) toKeep.kek = newKekSetting('kek-local');
  const created = toKeep.adminToken !== kept.adminToken || toKeep.kek !== kept.kek;
  if (created) await writeFile(file, `${JSON.stringify(toKeep, null, 2)}\n`, { mode: 0o600 });
  // A KEK given in the environment comes first (it seals new keys); the kept one still opens what
  // it sealed, unless the given setting has a key of the same id.
  const givenIds = new Set(
    (given.kek ?? '').split(',').map((entry) => entry.split(':')[0]?.trim()),
  );
  const keptKek = toKeep.kek && !givenIds.has(toKeep.kek.split(':')[0]) ? toKeep.kek : undefined;
  const secrets: Secrets = {
    adminToken: (given.adminToken ?? toKeep.adminToken)!,
    kek: [given.kek, keptKek].filter(Boolean).join(','),
  };
  return { ...secrets, created };
}
