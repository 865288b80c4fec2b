// The suite against the distributed stack, through its nginx edge: Kafka, Redis, every service its
// own process. Then a service is killed (SIGKILL) mid-run and started again: no event is lost, and
// the whole suite passes again. Debian's prometheus scrapes every service all along, and the
// services' series must have moved under the suite's traffic.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineLogSecretsCheck, watchSecrets } from './log-secrets.js';
import { expectMovedUnderTraffic, expectRouteTemplates } from './metrics.js';
import { defineOktaSdkSuite } from './okta-sdks.js';
import { type Prometheus, startPrometheus } from './prometheus.js';
import { defineInternalPlaneAttacks } from './security/internal-plane.js';
import { defineSessionAttacks } from './security/sessions.js';
import { defineDistributedThrottle, defineThrottleAttacks } from './security/throttles.js';
import {
  ClientApp,
  connect,
  defineE2eSuite,
  managementApi,
  newE2eTenant,
  password,
} from './suite.js';
import { type StackTarget, startStackTarget } from './targets.js';

let target: StackTarget;
watchSecrets();
let prometheus: Prometheus | undefined;

beforeAll(async () => {
  target = await startStackTarget();
  // Every service's own port (the projector's too), as a Prometheus inside the network would see it.
  const targets = Object.fromEntries(
    target.stack.services().map((service) => [service.name, `127.0.0.1:${service.httpPort}`]),
  );
  prometheus = await startPrometheus(targets);
  await prometheus.untilScraped();
});
afterAll(async () => {
  await prometheus?.stop();
  await target?.stop();
});

defineE2eSuite('distributed stack (nginx edge)', () => target);
defineSessionAttacks('distributed stack (nginx edge)', () => target);
defineThrottleAttacks('distributed stack (nginx edge)', () => target);
defineOktaSdkSuite('distributed stack (nginx edge)', () => target);
defineDistributedThrottle(() => target);
defineInternalPlaneAttacks(() => target);

describe('stack: killing and restarting services mid-run', () => {
  const app = new ClientApp();
  beforeAll(() => app.start());
  afterAll(() => app.stop());

  it('loses no event while the projector is down, and the token service comes back', async () => {
    const { stack } = target;
    const tenant = await newE2eTenant(target, app);
    const client = await connect(tenant, app);
    const tokens = await client.codeFlowTokens();
    expect((await client.userinfoStatus(tokens.access_token)).status).toBe(200);

    // The projector dies mid-run; the token service goes on taking revocations (events on Kafka).
    await stack.kill('projector', 'SIGKILL');
    await oidc.tokenRevocation(client.web, tokens.access_token);
    // And the admin service keeps appending: the change is made even though nothing projects it yet.
    const api = managementApi(target);
    const path = new URL(tenant.org).pathname;
    const login = 'grace@example.com';
    const whileDown = await api.call(
      'POST',
      `${path}/api/v1/users?activate=true`,
      tenant.apiToken,
      {
        profile: { firstName: 'Grace', lastName: 'Hopper', email: login, login },
        credentials: { password: { value: password } },
      },
    );
    // Read-your-writes cannot be met: a clear error, never a 500.
    expect(whileDown.status).not.toBe(500);
    expect(whileDown.status).toBeGreaterThanOrEqual(500);
    await stack.restart('projector');
    await stack.ready();
    // The revocation made while it was down is applied: the token is dead at another process.
    expect((await client.userinfoStatus(tokens.access_token)).status).toBe(401);
    const user = await api.call('GET', `${path}/api/v1/users/${login}`, tenant.apiToken);
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ status: 'ACTIVE', profile: { login } });

    // The token service dies: the edge answers its paths with OAuth's 503 in JSON (not nginx's
    // HTML 502), then it comes back.
    await stack.kill('token', 'SIGKILL');
    const down = await fetch(`${tenant.issuer}/v1/token`, { method: 'POST' });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(((await down.json()) as { error: string }).error).toBe('temporarily_unavailable');
    await stack.restart('token');
    await stack.ready();
    const again = await client.codeFlowTokens();
    expect((await client.userinfoStatus(again.access_token)).status).toBe(200);
  });
});

defineE2eSuite('distributed stack, after a projector and a token service crash', () => target);

describe('stack: metrics, scraped by Prometheus', () => {
  it('scraped every service and saw the series move under the traffic above', async () => {
    await prometheus!.untilScraped();
    await expectMovedUnderTraffic(prometheus!);
    const routes = await prometheus!.query(
      'count by (http_route) (http_server_request_duration_seconds_count)',
    );
    expectRouteTemplates(
      routes.map((sample) => sample.metric.http_route!),
      [],
    );
  });

  it('keeps /metrics, /healthz and /readyz off the public edge, with or without a tenant', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/acme/metrics']) {
      const answer = await fetch(`${target.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(await answer.json(), path).toMatchObject({ errorCode: 'E0000008' });
    }
  });
});

// Last: no secret the whole run used is in any service's log or the edge's access log.
defineLogSecretsCheck('distributed stack (nginx edge)', () => target.logs());
