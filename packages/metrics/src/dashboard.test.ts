// The checked-in Grafana dashboard (infra/grafana/gatehouse.json) queries only series the services
// export: every metric name in its expressions is one this package's registry exposes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatehouseMetrics } from './index.js';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../infra/grafana/gatehouse.json', import.meta.url), 'utf8'),
) as { uid: string; panels: Panel[] };

// PromQL words that are not metric names: aggregations, functions (followed by a parenthesis, so
// found apart), modifiers and operators.
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
]);

/** The metric names an expression reads. */
export function metricNames(expression: string): string[] {
  const stripped = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values, regexes)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges, $__rate_interval
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // grouping labels
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call || keywords.has(word!) || /^\d/.test(word!)) continue;
    names.add(word!);
  }
  return [...names];
}

/** The names the exposition has samples under: each metric, and a histogram's _bucket, _sum, _count. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new GatehouseMetrics();
  metrics.collectProcessMetrics();
  const names = new Set<string>();
  for (const line of (await metrics.exposition()).split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!typed) continue;
    const [, name, type] = typed;
    names.add(name!);
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('metricNames', () => {
  it('finds the metrics of an expression, not its functions, labels, strings or ranges', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, service) (rate(http_server_request_duration_seconds_bucket{http_route=~"/a.*",x="y"}[$__rate_interval]))) / on (service) group_left sum(up)',
      ).sort(),
    ).toEqual(['http_server_request_duration_seconds_bucket', 'up']);
  });
});

describe('the Grafana dashboard', () => {
  it('has panels, each with at least one query', () => {
    expect(dashboard.uid).toBe('gatehouse');
    expect(dashboard.panels.length).toBeGreaterThan(10);
    for (const panel of dashboard.panels)
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
  });

  it('queries only series the services export', async () => {
    const exported = await exportedNames();
    const unknown: string[] = [];
    let queried = 0;
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        for (const name of metricNames(target.expr)) {
          queried++;
          if (!exported.has(name)) unknown.push(`${panel.title}: ${name}`);
        }
    expect(queried).toBeGreaterThan(dashboard.panels.length);
    expect(unknown).toEqual([]);
  });

  it("shows every one of Gatehouse's own series", async () => {
    const queried = new Set(
      dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((t) => metricNames(t.expr)),
      ),
    );
    const own = [...(await exportedNames())].filter(
      (name) =>
        (name.startsWith('gatehouse_') || name.startsWith('http_') || name.startsWith('rpc_')) &&
        !/_(bucket|sum|count)$/.test(name),
    );
    for (const name of own)
      expect(
        [name, `${name}_bucket`, `${name}_count`].some((n) => queried.has(n)),
        name,
      ).toBe(true);
  });
});
