// Writes infra/k8s/base and infra/k8s/overlays/example from the service and route tables, and
// removes any file there that the tables no longer produce.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { k8sManifests } from './k8s.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const k8s = join(root, 'infra/k8s');
const files = k8sManifests(readFileSync(join(root, 'infra/nginx/nginx.conf'), 'utf8'));
for (const generated of ['base', 'overlays/example']) {
  const dir = join(k8s, generated);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) =>
    e.isFile(),
  )) {
    const path = relative(k8s, join(entry.parentPath, entry.name));
    if (!(path in files)) {
      rmSync(join(k8s, path));
      process.stdout.write(`removed ${join(k8s, path)}\n`);
    }
  }
}
for (const [path, text] of Object.entries(files)) {
  const target = join(k8s, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
