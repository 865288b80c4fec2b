// The nginx edge's locations, written from the route table: infra/nginx/routes.conf is this
// function's output (a unit test keeps the committed file equal to it). The upstreams (`admin`,
// `token`, ...) are defined by the including file: infra/nginx/nginx.conf for containers, the stack
// script's own file for processes on 127.0.0.1.
import { fallbackUpstream, internalPathPattern, routes } from './routes.js';

export function nginxRoutes(): string {
  const lines = [
    '# Generated from tools/topology/src/routes.ts by `pnpm --filter @gatehouse/topology nginx:routes`;',
    '# a unit test keeps it equal. Included inside the edge `server` block by infra/nginx/nginx.conf and',
    '# by the stack script. First matching regex wins, in this order; the rest goes to admin.',
    '',
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $http_host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Request-Id $request_id;',
    'proxy_redirect off;',
    'proxy_buffering off;',
    'client_max_body_size 1m;',
    '',
    "# Probes and metrics are internal: answered on each service's own port, never through the edge.",
    `location ~ ${quote(internalPathPattern)} {`,
    '  default_type application/json;',
    `  return 404 '${internalNotFound}';`,
    '}',
  ];
  for (const route of routes) {
    lines.push(
      `location ~ ${quote(route.pattern)} {`,
      `  proxy_pass http://${route.upstream};`,
      '}',
    );
  }
  lines.push('location / {', `  proxy_pass http://${fallbackUpstream};`, '}', '');
  return lines.join('\n');
}

/** Okta's answer to a path nobody serves (E0000008), as admin gives it, with nginx's request id. */
const internalNotFound =
  '{"errorCode":"E0000008","errorSummary":"The requested path was not found","errorLink":"E0000008","errorId":"$request_id","errorCauses":[]}';

/** nginx needs quotes around a regex with braces (`{2,40}`). */
function quote(pattern: string): string {
  if (pattern.includes('"')) throw new Error(`a route pattern may not contain a quote: ${pattern}`);
  return `"${pattern}"`;
}

/** The `upstream` blocks for services at the given addresses (`host:port`). */
export function nginxUpstreams(addresses: Record<string, string>): string {
  return Object.entries(addresses)
    .map(([name, address]) => `upstream ${name} {\n  server ${address};\n  keepalive 32;\n}\n`)
    .join('');
}
