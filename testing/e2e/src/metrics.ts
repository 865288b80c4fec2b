// What the suite expects of the services' Prometheus series after its traffic: the all-in-one's
// /metrics read directly, the distributed stack's through a real Prometheus (prometheus.ts).
import { expect } from 'vitest';
import type { Prometheus } from './prometheus.js';

/** Series every Gatehouse process exports (each with a # TYPE line in the exposition). */
export const exportedSeries = [
  'http_server_request_duration_seconds',
  'rpc_server_duration_seconds',
  'rpc_client_duration_seconds',
  'gatehouse_tokens_issued_total',
  'gatehouse_token_checks_total',
  'gatehouse_projection_lag_seconds',
  'gatehouse_projection_events_applied_total',
  'gatehouse_event_publish_duration_seconds',
  'gatehouse_redis_command_duration_seconds',
  'gatehouse_password_hash_queue_depth',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
] as const;

/** The samples of `name` in a text exposition, with their labels as written. */
export function samples(exposition: string, name: string): { labels: string; value: number }[] {
  const found: { labels: string; value: number }[] = [];
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\w+)(\{[^}]*\})? (\S+)/.exec(line);
    if (match && match[1] === name) found.push({ labels: match[2] ?? '', value: Number(match[3]) });
  }
  return found;
}

/** Sum of the samples of `name` whose labels have every one of `having` (`key="value"`, or a regex). */
export function total(exposition: string, name: string, ...having: (string | RegExp)[]): number {
  return samples(exposition, name)
    .filter((sample) =>
      having.every((label) =>
        typeof label === 'string' ? sample.labels.includes(label) : label.test(sample.labels),
      ),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** An Okta-style id: 20 letters and digits, at least one a digit. */
const idSegment = /^(?=[A-Za-z]*\d)[0-9A-Za-z]{20}$/;

/** An http_route is a template: no id in a segment, and no tenant of the run. */
export function expectRouteTemplates(routes: readonly string[], tenants: readonly string[]): void {
  expect(routes.length).toBeGreaterThan(0);
  for (const route of routes) {
    expect(route === 'unmatched' || route.startsWith('/'), route).toBe(true);
    const segments = route.split('/');
    expect(
      segments.filter((segment) => idSegment.test(segment)),
      route,
    ).toEqual([]);
    for (const tenant of tenants) expect(segments, route).not.toContain(tenant);
  }
}

/**
 * PromQL expressions (one value each, summed over every service) that the stack suite's traffic must
 * have made positive, with what each says.
 */
export const movedUnderTraffic: readonly [string, string][] = [
  [
    'sum(increase(http_server_request_duration_seconds_count{service="token",http_route=~".*/v1/token"}[1h]))',
    'token requests timed by route template',
  ],
  [
    'sum(increase(http_server_request_duration_seconds_count{service="userinfo",http_route=~".*/v1/userinfo"}[1h]))',
    "userinfo's direct route timed",
  ],
  [
    'sum(increase(http_server_request_duration_seconds_count{service="admin"}[1h]))',
    'management API requests timed',
  ],
  ['sum(increase(gatehouse_tokens_issued_total[1h]))', 'tokens issued'],
  ['sum(increase(gatehouse_token_checks_total{outcome="valid"}[1h]))', 'token checks (valid)'],
  ['sum(increase(gatehouse_token_checks_total{outcome="invalid"}[1h]))', 'token checks (invalid)'],
  [
    'sum(increase(gatehouse_projection_events_applied_total{service="projector"}[1h]))',
    'events applied by the projector',
  ],
  ['count(gatehouse_projection_lag_seconds{service="projector"})', 'projection lag by topic'],
  [
    'sum(increase(gatehouse_event_publish_duration_seconds_count{outcome="ok"}[1h]))',
    'events appended to Kafka',
  ],
  [
    'sum(increase(gatehouse_redis_command_duration_seconds_count{command="readBatch"}[1h]))',
    'Redis read batches timed',
  ],
  [
    'sum(increase(rpc_server_duration_seconds_count{service="token",rpc_method="MintTokens"}[1h]))',
    'gRPC MintTokens served',
  ],
  [
    'sum(increase(rpc_client_duration_seconds_count{service="authorize",rpc_method="MintTokens"}[1h]))',
    'gRPC MintTokens called',
  ],
  [
    'count(gatehouse_password_hash_queue_depth{service="authorize"})',
    'password check queue depth reported',
  ],
  ['count(process_cpu_seconds_total)', 'Node process metrics of every service'],
];

/** Polls each expression until it is positive, all within `timeoutMs`; names those that never were. */
export async function expectMovedUnderTraffic(
  prometheus: Prometheus,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const failing = new Map<string, string>();
  for (const [expression, meaning] of movedUnderTraffic) {
    for (;;) {
      const [sample] = await prometheus.query(expression);
      if (sample && sample.value > 0) break;
      if (Date.now() > deadline) {
        failing.set(meaning, `${expression} = ${sample?.value ?? 'no data'}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  expect(Object.fromEntries(failing)).toEqual({});
}
