// Services composed for each other's suites, as the all-in-one and the stack compose them: a suite
// of one service that needs another running (authorize mints through the token service's gRPC,
// userinfo checks tokens the token service issued, the key pool is filled for tenants the admin
// API creates) gets it from here, so that no service imports another, even in its tests. Each
// listens on a free port of 127.0.0.1 and registers its own cleanup.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AdminDeps, createAdminApp } from '@gatehouse/admin';
import { createTokenService, serveTokenService, type TokenDeps } from '@gatehouse/token';

export type Cleanups = (() => Promise<void>)[];

/** Serves the app on a free port of 127.0.0.1, closed by the cleanups; gives its base URL. */
export async function listenOnLoopback(
  app: RequestListener | { callback(): RequestListener },
  cleanups: Cleanups,
): Promise<string> {
  const server: Server = createServer(typeof app === 'function' ? app : app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface RunningTokenService {
  /** Its HTTP base (/token, /introspect, /revoke). */
  base: string;
  /** Its gRPC TokenService on 127.0.0.1 (only when started with `grpcTls`). */
  grpcAddress?: string;
}

/** The token service, started, on HTTP and (with `grpcTls`) gRPC over mutual TLS. */
export async function startTokenService(
  deps: TokenDeps,
  cleanups: Cleanups,
  options: { grpcTls?: Parameters<typeof serveTokenService>[2] } = {},
): Promise<RunningTokenService> {
  const token = createTokenService(deps);
  await token.start();
  cleanups.push(() => token.stop());
  const base = await listenOnLoopback(token.app, cleanups);
  if (!options.grpcTls) return { base };
  const grpc = await serveTokenService(token.tokenService, '127.0.0.1:0', options.grpcTls);
  cleanups.push(() => grpc.close());
  return { base, grpcAddress: `127.0.0.1:${grpc.port}` };
}

/** The management API; gives its base URL. */
export async function startAdminApi(deps: AdminDeps, cleanups: Cleanups): Promise<string> {
  return listenOnLoopback(createAdminApp(deps), cleanups);
}

/**
 * The token service as its own suites start it (its harness: HTTP on loopback, the projector, the
 * OAuth backbone), for suites of services that check the tokens it issues.
 */
export { basic, startToken, tenancy as tokenTenancy } from '@gatehouse/token/testing';
