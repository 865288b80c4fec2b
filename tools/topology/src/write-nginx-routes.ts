// Writes infra/nginx/routes.conf from the route table.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nginxRoutes } from './nginx.js';

const target = fileURLToPath(new URL('../../../infra/nginx/routes.conf', import.meta.url));
writeFileSync(target, nginxRoutes());
process.stdout.write(`wrote ${target}\n`);
