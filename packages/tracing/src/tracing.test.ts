import { randomBytes } from 'node:crypto';
import { ConfigError } from '@gatehouse/config';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTracingConfig } from './config.js';
import { traceApply, traceHeaders } from './events.js';
import { traceGrpcCall } from './grpc.js';
import { routeTemplate, traceHttpRequest } from './http.js';
import { type OtlpReceiver, startOtlpReceiver } from './testing/index.js';
import { activeTraceId, startTracing, type Tracing, tracingOn } from './tracing.js';

describe('readTracingConfig', () => {
  it('is off by default, and on with an endpoint or OTEL_TRACES_EXPORTER=otlp', () => {
    expect(readTracingConfig({}, 'token')).toEqual({ enabled: false });
    expect(
      readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'token'),
    ).toEqual({
      enabled: true,
      serviceName: 'gatehouse-token',
      tracesUrl: 'http://collector:4318/v1/traces',
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }, 'token')).toMatchObject({
      enabled: true,
      tracesUrl: 'http://localhost:4318/v1/traces',
    });
    expect(
      readTracingConfig(
        {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom',
          OTEL_SERVICE_NAME: 'tokens-eu',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        },
        'token',
      ),
    ).toMatchObject({
      tracesUrl: 'http://collector:4318/custom',
      serviceName: 'tokens-eu',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
    });
    // Off wins: none, or the SDK disabled, with an endpoint set.
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(readTracingConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'x').enabled).toBe(
      false,
    );
    expect(readTracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'x').enabled).toBe(false);
  });

  it('refuses what it cannot do, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    const refused = (env: Record<string, string>) => {
      try {
        readTracingConfig(env, 'token');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).variable;
      }
      return undefined;
    };
    expect(refused({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    );
    expect(refused({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe(
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    );
    expect(refused({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe('OTEL_TRACES_EXPORTER');
    expect(refused({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' })).toBe('OTEL_TRACES_SAMPLER');
    expect(refused({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '2' })).toBe('OTEL_TRACES_SAMPLER_ARG');
    expect(refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  });
});

it('names templates as OpenTelemetry does', () => {
  expect(routeTemplate('/oauth2/:asId/v1/token')).toBe('/oauth2/{asId}/v1/token');
});

describe('tracing off', () => {
  it('runs the work and carries nothing', async () => {
    const tracing = await startTracing(readTracingConfig({}, 'token'));
    expect(tracing.enabled).toBe(false);
    expect(tracingOn()).toBe(false);
    expect(traceHeaders()).toBeUndefined();
    const answered = await traceHttpRequest(
      'token',
      'POST',
      { traceparent: 'garbage' },
      async () => 'answered',
      () => ({ status: 200 }),
    );
    expect(answered).toBe('answered');
  });
});

describe('tracing on', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing(
      readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }, 'unit'),
    );
  });
  afterAll(async () => {
    await tracing.shutdown();
    await receiver.close();
  });

  const request = async (headers: Record<string, string>, route = '/oauth2/:asId/v1/token') => {
    let carried: Record<string, string> | undefined;
    let logged: string | undefined;
    const answered = await traceHttpRequest(
      'token',
      'POST',
      headers,
      async () => {
        carried = traceHeaders();
        logged = activeTraceId();
        return 'answered';
      },
      () => ({ route, status: 200, tenant: 'acme' }),
    );
    await tracing.flush();
    const span = receiver.spans.at(-1)!;
    return { answered, carried, span, logged };
  };

  it('continues the caller trace of a valid traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const { answered, carried, span, logged } = await request({
      traceparent: `00-${traceId}-${parent}-01`,
      tracestate: 'vendor=1',
    });
    expect(answered).toBe('answered');
    // The request's log line names the trace it is in.
    expect(logged).toBe(traceId);
    expect(span).toMatchObject({
      traceId,
      parentSpanId: parent,
      name: 'POST /oauth2/{asId}/v1/token',
      kind: 2,
      scope: 'gatehouse-token',
      service: 'gatehouse-unit',
      attributes: {
        'http.route': '/oauth2/{asId}/v1/token',
        'http.response.status_code': 200,
        'gatehouse.tenant': 'acme',
      },
    });
    // What the request publishes carries its own span, in the same trace, and the caller's state.
    expect(carried).toEqual({
      traceparent: `00-${traceId}-${span.spanId}-01`,
      tracestate: 'vendor=1',
    });
  });

  it('ignores a malformed traceparent: a new trace, and no error', async () => {
    const malformed = [
      'garbage',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', // no flags
      `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`, // the invalid all-zero trace id
      `00-${'1'.repeat(32)}-${'0'.repeat(16)}-01`, // the invalid all-zero span id
      `ff-${'1'.repeat(32)}-${'1'.repeat(16)}-01`, // version ff is forbidden
      `00-${'G'.repeat(32)}-${'1'.repeat(16)}-01`,
      '',
    ];
    const traceIds = new Set<string>();
    for (const traceparent of malformed) {
      const { answered, span, logged } = await request({ traceparent });
      expect(answered, traceparent).toBe('answered');
      // A new trace: the log line names it, not the malformed header's.
      expect(logged, traceparent).toBe(span.traceId);
      expect(span.parentSpanId, traceparent).toBe('');
      expect(span.traceId, traceparent).toMatch(/^[0-9a-f]{32}$/);
      expect(span.traceId, traceparent).not.toBe('1'.repeat(32));
      traceIds.add(span.traceId);
    }
    expect(traceIds.size).toBe(malformed.length);
  });

  it('names a request no route matched after its method alone', async () => {
    const { span } = await traceHttpRequest(
      'token',
      'GET',
      {},
      async () => undefined,
      () => ({ status: 404 }),
    ).then(async () => {
      await tracing.flush();
      return { span: receiver.spans.at(-1)! };
    });
    expect(span.name).toBe('GET');
  });

  it('serves a gRPC call under the caller of its metadata, or in process under the active span', async () => {
    const traceId = randomBytes(16).toString('hex');
    const caller = randomBytes(8).toString('hex');
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${caller}-01`);
    const path = '/gatehouse.token.v1.TokenService/MintTokens';
    expect(
      await traceGrpcCall('token', { getPath: () => path, metadata }, async () => 'minted'),
    ).toBe('minted');
    await tracing.flush();
    expect(receiver.spans.at(-1)).toMatchObject({
      traceId,
      parentSpanId: caller,
      name: 'gatehouse.token.v1.TokenService/MintTokens',
      kind: 2,
      attributes: { 'rpc.system': 'grpc', 'rpc.method': 'MintTokens' },
    });
    // In one process (the all-in-one's local minter): no traceparent, the request's span is the parent.
    await traceHttpRequest(
      'authorize',
      'GET',
      { traceparent: `00-${traceId}-${caller}-01` },
      () => traceGrpcCall('token', { metadata: new Metadata() }, async () => 'minted'),
      () => ({ route: '/oauth2/:serverId/v1/authorize', status: 302 }),
    );
    await tracing.flush();
    const [served, request] = receiver.spans.slice(-2);
    expect(request).toMatchObject({ traceId, parentSpanId: caller, scope: 'gatehouse-authorize' });
    expect(served).toMatchObject({
      traceId,
      parentSpanId: request!.spanId,
      scope: 'gatehouse-token',
    });
  });

  it('applies an event in a consumer span, child of the context its headers carry', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const applied: string[] = [];
    const apply = traceApply('projector', async (event: { envelope: { type: string } }) => {
      applied.push(event.envelope.type);
    });
    const event = {
      topic: 'gatehouse.grants',
      envelope: { type: 'gatehouse.events.v1.TokensIssued', tenant: 'acme' },
    };
    await apply({ ...event, traceHeaders: { traceparent: `00-${traceId}-${parent}-01` } });
    await apply({ ...event, traceHeaders: { traceparent: 'nonsense' } });
    await tracing.flush();
    const [carried, fresh] = receiver.spans.slice(-2);
    expect(applied).toHaveLength(2);
    expect(carried).toMatchObject({
      traceId,
      parentSpanId: parent,
      name: 'apply gatehouse.events.v1.TokensIssued',
      kind: 5,
      scope: 'gatehouse-projector',
      attributes: { 'messaging.destination.name': 'gatehouse.grants' },
    });
    expect(fresh!.parentSpanId).toBe('');
    expect(fresh!.traceId).not.toBe(traceId);
  });
});
