// `pnpm certs [DIR] [--owner UID]`: a dev CA and a certificate for each service with a gRPC side,
// in DIR (default .infra/compose-certs, what docker-compose.yml mounts), kept when already there.
// The images run as `node` (uid 1000) and the keys are 0600: as root, the files are given to uid
// 1000 unless --owner says otherwise. Production uses the operator's own CA instead.
import { chown, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadOrCreateDevCertificates } from '@gatehouse/dev-certificates';
import { services } from '@gatehouse/topology';
import { repoRoot } from './stack.js';

const args = process.argv.slice(2);
const ownerAt = args.indexOf('--owner');
const owner =
  ownerAt >= 0 ? Number(args.splice(ownerAt, 2)[1]) : process.getuid?.() === 0 ? 1000 : undefined;
if (owner !== undefined && !Number.isInteger(owner)) {
  process.stderr.write('certs: --owner takes a numeric uid\n');
  process.exit(2);
}
const dir = resolve(repoRoot, args[0] ?? '.infra/compose-certs');
const names = services
  .filter((spec) => spec.requires.includes('GATEHOUSE_GRPC_TLS_CERT'))
  .map((spec) => spec.name);
const files = await loadOrCreateDevCertificates(dir, names);
if (owner !== undefined) {
  await chown(dir, owner, owner);
  for (const file of await readdir(dir)) await chown(join(dir, file), owner, owner);
}
process.stdout.write(
  [
    `dev CA: ${files.ca}${owner !== undefined ? ` (files owned by uid ${owner})` : ''}`,
    ...names.map((name) => `${name.padEnd(10)} ${files.cert(name)}  ${files.key(name)}`),
    '',
  ].join('\n'),
);
