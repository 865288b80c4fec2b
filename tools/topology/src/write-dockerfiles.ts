// Writes services/<name>/Dockerfile for every service in the table.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dockerfile, pinnedPnpm } from './dockerfile.js';
import { services } from './services.js';

const root = new URL('../../../', import.meta.url);
const pnpm = pinnedPnpm(readFileSync(new URL('package.json', root), 'utf8'));
for (const spec of services) {
  const target = fileURLToPath(new URL(`services/${spec.name}/Dockerfile`, root));
  writeFileSync(target, dockerfile(spec, pnpm));
  process.stdout.write(`wrote ${target}\n`);
}
