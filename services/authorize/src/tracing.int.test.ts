// One sign-in is one trace (issue 20, SPEC section 9): a hybrid flow (`code id_token token`) sent
// with a caller's traceparent goes through /authorize, the token service's MintTokens over gRPC
// (mutual TLS), the events on Kafka and the projector's apply on Redis; the code is then redeemed
// at /token with the same traceparent. Every span reaches an OTLP/HTTP receiver run by the test, in
// the caller's trace, each with the right parent.
import { randomBytes } from 'node:crypto';
import { fixturePassword, kafkaRedisStack } from '@gatehouse/test-stacks';
import { readTracingConfig, startTracing, type Tracing } from '@gatehouse/tracing';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '@gatehouse/tracing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthorize } from './testing/authorize-harness.js';

const redirectUri = 'https://app.example.com/cb';
const server = 2; // OTLP SpanKind
const client = 3;
const consumer = 5;

describe('traces across authorize, token and the projector', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing(
      readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }, 'test'),
    );
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await tracing.shutdown();
    await receiver.close();
  });

  it('makes one sign-in one trace: /authorize, MintTokens, the events applied, /token', async () => {
    const harness = await startAuthorize(kafkaRedisStack('tracing-test'), cleanups);
    const tenant = await harness.newTenant();
    const web = await harness.newClient(tenant, {
      client_name: 'Web',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'implicit'],
      response_types: ['code', 'code id_token token'],
      consent_method: 'TRUSTED',
    });
    const login = `ada-${randomBytes(3).toString('hex')}@example.com`;
    const userId = await harness.newUser(tenant, login);
    await harness.assign(tenant, web.clientId, { userId });
    const authn = await fetch(`${harness.base}/${tenant}/api/v1/authn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: login, password: fixturePassword }),
    });
    const { sessionToken } = (await authn.json()) as { sessionToken: string };

    // A projector new to a shared broker reads every earlier suite's events first: the flow starts
    // once the token service's read models are fresh (its token checks fail closed until then).
    const readyUntil = Date.now() + 60_000;
    while ((await fetch(`${harness.tokenBase}/readyz`)).status !== 200 && Date.now() < readyUntil)
      await new Promise((resolve) => setTimeout(resolve, 100));

    // The caller's trace: what a browser instrumented with OpenTelemetry, or a gateway, sends.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const params = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: redirectUri,
      response_type: 'code id_token token',
      response_mode: 'fragment',
      scope: 'openid profile',
      state: 'st-1',
      nonce: 'n-1',
      sessionToken,
    });
    const authorized = await fetch(
      `${harness.base}/${tenant}/oauth2/default/v1/authorize?${params}`,
      { headers: { traceparent }, redirect: 'manual' },
    );
    expect(authorized.status).toBe(302);
    const fragment = new URLSearchParams(
      new URL(authorized.headers.get('location')!).hash.slice(1),
    );
    expect(fragment.get('access_token')).toEqual(expect.any(String));
    // A 503 temporarily_unavailable (the read models a moment behind on a busy machine) is
    // answered as a client should: tried again shortly, in the same trace.
    const exchange = () =>
      fetch(`${harness.tokenBase}/${tenant}/oauth2/default/v1/token`, {
        method: 'POST',
        headers: {
          traceparent,
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${web.clientId}:${web.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: fragment.get('code')!,
          redirect_uri: redirectUri,
        }),
      });
    let exchanged = await exchange();
    for (
      const retryUntil = Date.now() + 30_000;
      exchanged.status === 503 && Date.now() < retryUntil;
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      exchanged = await exchange();
    }
    expect(exchanged.status, await exchanged.clone().text()).toBe(200);

    // The projector applies the events asynchronously: wait for its spans to be exported.
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    const applied = (type: string) =>
      inTrace().filter((span) => span.name === `apply gatehouse.events.v1.${type}`);
    const deadline = Date.now() + 30_000;
    while (
      (applied('TokensIssued').length < 2 ||
        applied('AuthorizationCodeIssued').length < 1 ||
        applied('AuthorizationCodeRedeemed').length < 1) &&
      Date.now() < deadline
    ) {
      await tracing.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const spans = inTrace();
    const one = (predicate: (span: ReceivedSpan) => boolean, what: string) => {
      const found = spans.filter(predicate);
      expect(found, `${what} in ${JSON.stringify(spans.map((s) => s.name))}`).toHaveLength(1);
      return found[0]!;
    };
    const childrenOf = (parent: ReceivedSpan) =>
      spans.filter((span) => span.parentSpanId === parent.spanId);

    // authorize: the request's server span, child of the caller's span, named by its template.
    const authorizeSpan = one(
      (span) => span.scope === 'gatehouse-authorize' && span.kind === server,
      'authorize server span',
    );
    expect(authorizeSpan).toMatchObject({
      parentSpanId: callerSpanId,
      name: 'GET /oauth2/{serverId}/v1/authorize',
      service: 'gatehouse-test',
      attributes: { 'http.response.status_code': 302, 'gatehouse.tenant': tenant },
    });
    // Never a tenant or an id in a span name.
    for (const span of spans) expect(span.name).not.toContain(tenant);
    // authorize -> token over gRPC: the client span, and the token service's server span under it.
    const mintCall = one(
      (span) => span.scope === 'gatehouse-authorize' && span.kind === client,
      'MintTokens client span',
    );
    expect(mintCall).toMatchObject({
      parentSpanId: authorizeSpan.spanId,
      name: 'gatehouse.token.v1.TokenService/MintTokens',
      attributes: { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 0 },
    });
    const mintServed = one(
      (span) =>
        span.scope === 'gatehouse-token' &&
        span.kind === server &&
        span.parentSpanId === mintCall.spanId,
      'MintTokens server span',
    );
    expect(mintServed.name).toBe('gatehouse.token.v1.TokenService/MintTokens');
    // The events, applied by the projector under the span that published them.
    expect(childrenOf(authorizeSpan).map((span) => span.name)).toContain(
      'apply gatehouse.events.v1.AuthorizationCodeIssued',
    );
    expect(childrenOf(mintServed)).toEqual([
      expect.objectContaining({
        name: 'apply gatehouse.events.v1.TokensIssued',
        scope: 'gatehouse-projector',
        kind: consumer,
        attributes: expect.objectContaining({ 'messaging.destination.name': 'gatehouse.grants' }),
      }),
    ]);
    // The redemption at /token, in the same trace, and what it published applied under it.
    const tokenSpan = one(
      (span) =>
        span.scope === 'gatehouse-token' &&
        span.kind === server &&
        span.parentSpanId === callerSpanId,
      'token server span',
    );
    expect(tokenSpan).toMatchObject({
      name: 'POST /oauth2/{asId}/v1/token',
      attributes: { 'http.route': '/oauth2/{asId}/v1/token', 'http.response.status_code': 200 },
    });
    expect(
      childrenOf(tokenSpan)
        .map((span) => span.name)
        .sort(),
    ).toEqual([
      'apply gatehouse.events.v1.AuthorizationCodeRedeemed',
      'apply gatehouse.events.v1.TokensIssued',
    ]);
    // Three services' spans, one trace.
    expect(new Set(spans.map((span) => span.scope))).toEqual(
      new Set(['gatehouse-authorize', 'gatehouse-token', 'gatehouse-projector']),
    );
  });
});
