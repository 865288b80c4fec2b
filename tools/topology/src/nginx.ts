// The nginx edge's locations, written from the route table: infra/nginx/routes.conf is this
// function's output (a unit test keeps the committed file equal to it). The upstreams (`admin`,
// `token`, ...) are defined by the including file: infra/nginx/nginx.conf for containers, the stack
// script's own file for processes on 127.0.0.1.
import {
  type ErrorShape,
  fallbackErrors,
  fallbackUpstream,
  internalPathPattern,
  routes,
} from './routes.js';

/** Where a location sends nginx's own 502 and 504 (its upstream refused, or did not answer). */
const unavailable: Record<ErrorShape, string> = {
  oauth: '@oauth_unavailable',
  okta: '@okta_unavailable',
};

/** A JSON body for `return`: nginx quotes it in single quotes, and expands `$request_id`. */
function returned(body: Record<string, unknown>): string {
  const json = JSON.stringify(body);
  if (json.includes("'")) throw new Error(`an edge body may not contain a single quote: ${json}`);
  return `'${json}'`;
}

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
    '# A service that refuses the connection or does not answer: the error of the path, in JSON',
    "# (never nginx's HTML page). The services' own answers, 503s included, pass as they are.",
    'proxy_connect_timeout 5s;',
    '# A replica that refuses, resets, times out or answers 502: the request goes to the next one of',
    '# its pool, at most once more. nginx never does that for a POST (or PATCH) once it was sent (it',
    "# may have been acted on; `non_idempotent` stays off). A 503 is the service's own considered",
    '# answer (Kafka, Redis or its read models), shared by its replicas: it passes as it is.',
    'proxy_next_upstream error timeout http_502;',
    'proxy_next_upstream_tries 2;',
    '',
    "# The probes and metrics are the orchestrator's, on each service's own port: not public.",
    `location ~ ${quote(internalPathPattern)} {`,
    '  default_type application/json;',
    '  add_header X-Request-Id $request_id always;',
    `  return 404 ${returned({
      errorCode: 'E0000008',
      errorSummary: 'The requested path was not found',
      errorLink: 'E0000008',
      errorId: 'oae$request_id',
      errorCauses: [],
    })};`,
    '}',
    '',
    'location @oauth_unavailable {',
    '  default_type application/json;',
    '  add_header Retry-After 1 always;',
    '  add_header Cache-Control no-store always;',
    '  add_header X-Request-Id $request_id always;',
    `  return 503 ${returned({
      error: 'temporarily_unavailable',
      error_description: 'The service is unavailable right now; try again shortly.',
    })};`,
    '}',
    'location @okta_unavailable {',
    '  default_type application/json;',
    '  add_header Retry-After 1 always;',
    '  add_header Cache-Control no-store always;',
    '  add_header X-Request-Id $request_id always;',
    `  return 503 ${returned({
      errorCode: 'E0000009',
      errorSummary: 'The service is unavailable right now. Try again shortly.',
      errorLink: 'E0000009',
      errorId: 'oae$request_id',
      errorCauses: [],
    })};`,
    '}',
  ];
  for (const route of routes) {
    lines.push(
      `location ~ ${quote(route.pattern)} {`,
      `  proxy_pass http://${route.upstream};`,
      `  error_page 502 504 = ${unavailable[route.errors]};`,
      // Safe to send again (see Route.retrySent): a replica dying under it costs no answer.
      ...(route.retrySent ? ['  proxy_next_upstream error timeout http_502 non_idempotent;'] : []),
      '}',
    );
  }
  lines.push(
    'location / {',
    `  proxy_pass http://${fallbackUpstream};`,
    `  error_page 502 504 = ${unavailable[fallbackErrors]};`,
    '}',
    '',
  );
  return lines.join('\n');
}

/**
 * The edge's access log: one JSON line per request with nginx's request id (the X-Request-Id the
 * services log), the upstream that answered and the timings. The path without its query: a query
 * may carry a code or a token hint.
 */
export const nginxLogFormat = `log_format gatehouse escape=json '${JSON.stringify({
  time: '$time_iso8601',
  request_id: '$request_id',
  remote_addr: '$remote_addr',
  method: '$request_method',
  path: '$uri',
  status: '$status',
  bytes: '$body_bytes_sent',
  request_time: '$request_time',
  upstream_addr: '$upstream_addr',
  upstream_status: '$upstream_status',
  upstream_connect_time: '$upstream_connect_time',
  upstream_response_time: '$upstream_response_time',
  user_agent: '$http_user_agent',
})}';`;

/** nginx needs quotes around a regex with braces (`{2,40}`). */
function quote(pattern: string): string {
  if (pattern.includes('"')) throw new Error(`a route pattern may not contain a quote: ${pattern}`);
  return `"${pattern}"`;
}

/**
 * How the edge treats a replica that fails: one failed attempt (refused, reset, timed out, 502)
 * takes it out of its pool for 5 s, then nginx tries it again. nginx ignores both for a pool of one
 * (the only server is never taken out).
 */
export const upstreamFailover = { maxFails: 1, failTimeout: '5s' } as const;

/**
 * The `upstream` blocks for services at the given addresses (`host:port`, or one per replica): nginx
 * spreads requests round-robin over a pool and, per routes.conf's `proxy_next_upstream`, sends a
 * request a replica failed to the next one unless it is a POST already sent. An idle connection is
 * dropped by nginx (4 s) before Node's server drops it (5 s): nginx never sends a request (a POST,
 * which it does not retry) on a connection the service has just closed.
 */
export function nginxUpstreams(addresses: Record<string, string | readonly string[]>): string {
  const { maxFails, failTimeout } = upstreamFailover;
  return Object.entries(addresses)
    .map(([name, pool]) => {
      const servers = (typeof pool === 'string' ? [pool] : pool).map(
        (address) => `  server ${address} max_fails=${maxFails} fail_timeout=${failTimeout};\n`,
      );
      if (servers.length === 0) throw new Error(`upstream ${name} has no server`);
      return `upstream ${name} {\n${servers.join('')}  keepalive 32;\n  keepalive_timeout 4s;\n}\n`;
    })
    .join('');
}
