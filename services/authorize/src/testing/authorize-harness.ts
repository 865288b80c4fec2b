import { TrustedProxies } from '@gatehouse/http';
import { defaultRateLimitConfig, type RateLimitConfig } from '@gatehouse/rate-limits';
import { listenOnLoopback, startTokenService } from '@gatehouse/test-services';
import {
  directoryFixtures,
  startOAuthBackbone,
  type TestStack,
  testTenancy,
} from '@gatehouse/test-stacks';
import { testGrpcTls } from '@gatehouse/testkit';
import { createAuthorizeService, grpcTokenMinter } from '../app.js';
import type { FlowStateOptions } from '../flow-state.js';
import type { HashQueueOptions } from '../hash-queue.js';

export const tenancy = testTenancy;

const listen = listenOnLoopback;

export async function startAuthorize(
  stack: TestStack,
  cleanups: (() => Promise<void>)[],
  options: {
    /** The clock of the authorize and token services, the projector's beacon and the fixtures. */
    now?: () => number;
    flowOptions?: Partial<Omit<FlowStateOptions, 'now'>>;
    /** Sign-in budgets; default the deployment's defaults. */
    rateLimits?: RateLimitConfig;
    hashQueue?: Partial<HashQueueOptions>;
  } = {},
) {
  const clock = options.now ? { now: options.now } : {};
  const { bus, store, ring, keks, logs, log, rateLimiter } = await startOAuthBackbone(
    stack,
    cleanups,
    clock,
  );

  const token = await startTokenService(
    { bus, store, ring, keks, tenancy, log, ...clock },
    cleanups,
    {
      grpcTls: await testGrpcTls('token'),
    },
  );
  const tokenBase = token.base;

  const minter = grpcTokenMinter(token.grpcAddress!, await testGrpcTls('authorize'));
  cleanups.push(async () => minter.close());
  const service = createAuthorizeService({
    bus,
    store,
    ring,
    keks,
    // The tests serve clients' key sets on loopback.
    jwksUriHttpLoopback: true,
    tenancy,
    minter,
    log,
    ...clock,
    ...(options.flowOptions ? { flowOptions: options.flowOptions } : {}),
    rateLimiter: rateLimiter(options.rateLimits ?? defaultRateLimitConfig),
    // Loopback is the edge here, so a test presents sources with X-Forwarded-For.
    trustedProxies: new TrustedProxies(['127.0.0.1', '::1']),
    ...(options.hashQueue ? { hashQueue: options.hashQueue } : {}),
  });
  await service.start();
  cleanups.push(() => service.stop());
  const base = await listen(service.app, cleanups);

  // JWKS of any tenant's server, as the keys service publishes it: /{tenant}/{server}/keys.
  const jwksBase = await listen((req, res) => {
    const [, tenant, serverId] = (req.url ?? '').split('/');
    ring.keys(tenant ?? '', serverId ?? '').then(
      (view) => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            keys: view.keys.map(({ kid, n, e }) => ({
              kty: 'RSA',
              kid,
              n,
              e,
              alg: 'RS256',
              use: 'sig',
            })),
          }),
        );
      },
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  }, cleanups);

  const fixtures = directoryFixtures({ bus, store, keks, ...clock });
  return { bus, store, ring, keks, base, tokenBase, jwksBase, logs, ...fixtures };
}

export interface Reply {
  status: number;
  headers: Headers;
  location?: string;
  text: string;
}

/** An HTTP client that keeps cookies, as a browser would, and never follows redirects itself. */
export function browser(base: string) {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}): Promise<Reply> => {
    const target = new URL(url, base);
    const headers = new Headers(init.headers);
    if (target.origin === new URL(base).origin && jar.size > 0)
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      headers: response.headers,
      ...(location ? { location: new URL(location, target).href } : {}),
      text: await response.text(),
    };
  };
  return {
    jar,
    get: (url: string) => send(url),
    delete: (url: string) => send(url, { method: 'DELETE' }),
    post: (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      }),
  };
}

/** The hidden fields of the first form in a page. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[decodeHtml(match[1]!)] = decodeHtml(match[2]!);
  return fields;
}

export const decodeHtml = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
