// The direct routes' server spans (README "Traces"): named after the route's pattern, under the
// caller's traceparent, with the status and tenant; a handler's failure is still answered.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readTracingConfig, startTracing, type Tracing } from '@gatehouse/tracing';
import { type OtlpReceiver, startOtlpReceiver } from '@gatehouse/tracing/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DirectRoutesKoa } from './direct-routes.js';
import { OAuthError } from './oauth-errors.js';

let receiver: OtlpReceiver;
let tracing: Tracing;
let base: string;
const server = createServer();
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = await startTracing(
    readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }, 'unit'),
  );
  const app = new DirectRoutesKoa({
    tenancy: { mode: 'path', publicUrl: new URL('http://localhost:9000') },
    headers: {},
    onError: (caught) => ({ status: (caught as OAuthError).status, body: { error: 'failed' } }),
    component: 'userinfo',
  });
  app.direct(['GET'], '/oauth2/:serverId/v1/userinfo', async (request) => {
    if (request.params.serverId === 'broken') throw new OAuthError(401, 'invalid_token', 'no');
    return { body: { sub: 'someone' } };
  });
  server.on('request', app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await tracing.shutdown();
  await receiver.close();
});

it('answers a direct route in a server span named after its pattern, under the caller', async () => {
  const traceId = randomBytes(16).toString('hex');
  const caller = randomBytes(8).toString('hex');
  const traceparent = `00-${traceId}-${caller}-01`;
  const ok = await fetch(`${base}/acme/oauth2/aus123/v1/userinfo`, { headers: { traceparent } });
  expect(ok.status).toBe(200);
  const refused = await fetch(`${base}/acme/oauth2/broken/v1/userinfo`, {
    headers: { traceparent: 'not-a-traceparent' },
  });
  expect(refused.status).toBe(401);
  await tracing.flush();
  const [served, failed] = receiver.spans.slice(-2);
  expect(served).toMatchObject({
    traceId,
    parentSpanId: caller,
    name: 'GET /oauth2/{serverId}/v1/userinfo',
    kind: 2,
    scope: 'gatehouse-userinfo',
    attributes: {
      'http.route': '/oauth2/{serverId}/v1/userinfo',
      'http.response.status_code': 200,
      'gatehouse.tenant': 'acme',
    },
  });
  // Neither the tenant nor the server's id in the name; a malformed traceparent: a trace of its own.
  expect(failed).toMatchObject({
    parentSpanId: '',
    name: 'GET /oauth2/{serverId}/v1/userinfo',
    attributes: { 'http.response.status_code': 401 },
  });
  expect(failed!.traceId).not.toBe(traceId);
});
