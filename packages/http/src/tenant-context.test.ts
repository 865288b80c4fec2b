import type { AddressInfo } from 'node:net';
import type { TenancyConfig } from '@gatehouse/directory';
import { sendRaw } from '@gatehouse/testkit';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTenant } from './tenant-context.js';

const pathMode: TenancyConfig = { mode: 'path', publicUrl: new URL('http://localhost:9000') };
const servers: { close(): void }[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** A server that answers what resolveTenant made of the request: the tenant, path and query. */
async function serve(tenancy: TenancyConfig): Promise<number> {
  const app = new Koa();
  app.use(resolveTenant(tenancy));
  app.use((ctx) => {
    ctx.body = { tenant: ctx.state.tenant ?? null, path: ctx.path, query: ctx.querystring };
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

/** The request target as given (fetch would normalise it), with a Host header. */
const send = async (port: number, target: string, host = 'localhost') =>
  JSON.parse(
    (await sendRaw(`http://127.0.0.1:${port}`, target, { headers: { host } })).text,
  ) as unknown;

describe('resolveTenant', () => {
  it('path mode: takes the tenant prefix off the path and keeps the query', async () => {
    const port = await serve(pathMode);
    expect(await send(port, '/acme/oauth2/default/v1/introspect')).toEqual({
      tenant: 'acme',
      path: '/oauth2/default/v1/introspect',
      query: '',
    });
    expect(await send(port, '/acme-2/oauth2/v1/userinfo?x=%2Fy&z=/w')).toEqual({
      tenant: 'acme-2',
      path: '/oauth2/v1/userinfo',
      query: 'x=%2Fy&z=/w',
    });
    expect(await send(port, '/acme/')).toEqual({ tenant: 'acme', path: '/', query: '' });
  });

  it('path mode: no tenant for /api, a bare name, a name outside the pattern or a query slash', async () => {
    const port = await serve(pathMode);
    for (const [target, path] of [
      ['/api/v1/tenants', '/api/v1/tenants'],
      ['/acme', '/acme'],
      ['/Acme/oauth2/v1/keys', '/Acme/oauth2/v1/keys'],
      ['/a/oauth2/v1/keys', '/a/oauth2/v1/keys'],
      ['/acme?next=/oauth2', '/acme'],
    ] as const)
      expect(await send(port, target)).toMatchObject({ tenant: null, path });
  });

  it('path mode: an absolute-form request target (RFC 9112 section 3.2.2) too', async () => {
    const port = await serve(pathMode);
    expect(await send(port, 'http://localhost/acme/oauth2/v1/keys?a=1')).toMatchObject({
      tenant: 'acme',
      path: '/oauth2/v1/keys',
      query: 'a=1',
    });
  });

  it('host mode: the tenant is the subdomain of the configured domain', async () => {
    const port = await serve({
      mode: 'host',
      publicUrl: new URL('https://id.example.com'),
      domain: 'id.example.com',
    });
    expect(await send(port, '/oauth2/v1/keys', 'acme.id.example.com')).toEqual({
      tenant: 'acme',
      path: '/oauth2/v1/keys',
      query: '',
    });
    expect(await send(port, '/oauth2/v1/keys', 'id.example.com')).toMatchObject({ tenant: null });
  });
});
