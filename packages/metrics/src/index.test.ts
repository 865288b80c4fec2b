import { describe, expect, it } from 'vitest';
import {
  answerMetrics,
  GatehouseMetrics,
  processMetrics,
  requestMethodLabel,
  SeriesCache,
  seriesNames,
} from './index.js';

function reply() {
  const headers: Record<string, string> = {};
  let body = '';
  let done: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    done = resolve;
  });
  const res = {
    statusCode: 0,
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    end: (text: string) => {
      body = text;
      done();
    },
  };
  return { res, headers, ended, body: () => body };
}

describe('GatehouseMetrics', () => {
  it('exposes every series by its name, in the Prometheus text format', async () => {
    const metrics = new GatehouseMetrics();
    metrics.tokensIssued.inc({ grant_type: 'client_credentials', server_kind: 'org' });
    const text = await metrics.exposition();
    for (const name of Object.values(seriesNames)) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain(
      'gatehouse_tokens_issued_total{grant_type="client_credentials",server_kind="org"} 1',
    );
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('keeps each registry apart: two instances count on their own', async () => {
    const a = new GatehouseMetrics();
    const b = new GatehouseMetrics();
    a.tokenChecks.inc({ outcome: 'valid' }, 3);
    expect((await a.tokenChecks.get()).values[0]?.value).toBe(3);
    expect((await b.tokenChecks.get()).values).toEqual([]);
    expect(processMetrics()).toBe(processMetrics());
  });

  it('sums every watched password queue, and forgets one unwatched', async () => {
    const metrics = new GatehouseMetrics();
    const stop = metrics.watchHashQueue(() => ({ running: 2, queued: 5, refused: 1 }));
    metrics.watchHashQueue(() => ({ running: 1, queued: 0, refused: 4 }));
    let text = await metrics.exposition();
    expect(text).toContain('gatehouse_password_hash_queue_depth{state="running"} 3');
    expect(text).toContain('gatehouse_password_hash_queue_depth{state="queued"} 5');
    expect(text).toContain('gatehouse_password_hash_refused_total 5');
    stop();
    text = await metrics.exposition();
    expect(text).toContain('gatehouse_password_hash_queue_depth{state="queued"} 0');
  });

  it('adds Node process metrics once, however often asked', async () => {
    const metrics = new GatehouseMetrics();
    metrics.collectProcessMetrics();
    metrics.collectProcessMetrics();
    const text = await metrics.exposition();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text.match(/# TYPE process_cpu_seconds_total /g)).toHaveLength(1);
  });
});

describe('SeriesCache', () => {
  it('observes into the series of the labels, one child per key', async () => {
    const metrics = new GatehouseMetrics();
    const cache = new SeriesCache(metrics.httpServerDuration);
    const labels = {
      http_route: '/oauth2/:asId/v1/token',
      http_request_method: 'POST',
      http_response_status_code: '200',
    };
    cache.observe('a', labels, 0.002);
    cache.observe('a', labels, 0.004);
    const text = await metrics.exposition();
    expect(text).toContain(
      'http_server_request_duration_seconds_count{http_route="/oauth2/:asId/v1/token",http_request_method="POST",http_response_status_code="200"} 2',
    );
    expect(text).toContain(
      'http_server_request_duration_seconds_bucket{le="0.005",http_route="/oauth2/:asId/v1/token",http_request_method="POST",http_response_status_code="200"} 2',
    );
  });
});

describe('answerMetrics', () => {
  it('answers GET with the exposition and no caching', async () => {
    const metrics = new GatehouseMetrics();
    metrics.projectionEventsApplied.inc({ topic: 'gatehouse.directory' });
    const { res, headers, ended, body } = reply();
    answerMetrics(metrics, { method: 'GET' }, res);
    await ended;
    expect(res.statusCode).toBe(200);
    expect(headers['content-type']).toBe(metrics.contentType);
    expect(headers['cache-control']).toBe('no-store');
    expect(body()).toContain(
      'gatehouse_projection_events_applied_total{topic="gatehouse.directory"} 1',
    );
  });

  it('refuses another method with a JSON 405', async () => {
    const { res, headers, ended, body } = reply();
    answerMetrics(new GatehouseMetrics(), { method: 'POST' }, res);
    await ended;
    expect(res.statusCode).toBe(405);
    expect(headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(body())).toEqual({ error: 'method_not_allowed' });
  });

  it('answers 503 without detail when a collector fails', async () => {
    const metrics = new GatehouseMetrics();
    metrics.watchHashQueue(() => {
      throw new Error('secret detail');
    });
    const { res, ended, body } = reply();
    answerMetrics(metrics, { method: 'GET' }, res);
    await ended;
    expect(res.statusCode).toBe(503);
    expect(body()).not.toContain('secret');
  });
});

describe('requestMethodLabel', () => {
  it('keeps the standard methods and folds any other into _OTHER', () => {
    expect(requestMethodLabel('POST')).toBe('POST');
    expect(requestMethodLabel('PROPFIND')).toBe('_OTHER');
  });
});
