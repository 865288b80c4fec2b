// Writes infra/k8s/schemas/v{version}-standalone-strict/: the JSON schemas of the kinds the
// manifests use, from Kubernetes' swagger.json. infra/k8s/schemas/update.sh gives it the file (from
// the k8s.io/kubernetes Go module at the pinned version):
//   tsx src/write-k8s-schemas.ts <swagger.json> <version>
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { k8sKinds } from './k8s.js';
import { kindSchema, schemaFileName } from './k8s-schemas.js';

const [swaggerPath, version] = process.argv.slice(2);
if (!swaggerPath || !/^\d+\.\d+\.\d+$/.test(version ?? ''))
  throw new Error('usage: write-k8s-schemas.ts <swagger.json> <x.y.z>');
const { definitions } = JSON.parse(readFileSync(swaggerPath, 'utf8'));
const dir = fileURLToPath(
  new URL(`../../../infra/k8s/schemas/v${version}-standalone-strict/`, import.meta.url),
);
mkdirSync(dir, { recursive: true });
for (const file of readdirSync(dir)) rmSync(join(dir, file));
for (const kind of k8sKinds) {
  const target = join(dir, schemaFileName(kind));
  writeFileSync(target, `${JSON.stringify(kindSchema(definitions, kind), null, 1)}\n`);
  process.stdout.write(`wrote ${target}\n`);
}
