// The peer of `pnpm bench:token`: panva's oidc-provider, in a process of its own, with one
// confidential client that may use client_credentials and one resource server whose access tokens
// are RS256 JWTs (resource indicators, accessTokenFormat 'jwt'). Its default in-memory adapter
// stores nothing for JWT access tokens, so it signs and answers: no event, no read model. With
// BENCH_PEER_ACCESS_TOKEN_FORMAT=opaque, the peer of `pnpm bench:validation`: the resource server's
// access tokens are opaque (kept in the in-memory adapter), and introspection is enabled, since
// oidc-provider introspects no JWT. Settings come from the parent in BENCH_PEER_* variables; it
// listens on 127.0.0.1 and prints {"port":N} once it does.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const jwk = JSON.parse(process.env.BENCH_PEER_JWK ?? '') as Record<string, string>;
const clientId = process.env.BENCH_PEER_CLIENT_ID!;
const clientSecret = process.env.BENCH_PEER_CLIENT_SECRET!;
const resource = 'api://default';
const scope = 'orders.read';
const opaque = process.env.BENCH_PEER_ACCESS_TOKEN_FORMAT === 'opaque';

const provider = new Provider('http://localhost:9000/peer', {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  scopes: [scope],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    ...(opaque ? { introspection: { enabled: true } } : {}),
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () =>
        opaque
          ? { scope, audience: resource, accessTokenTTL: 3600, accessTokenFormat: 'opaque' }
          : {
              scope,
              audience: resource,
              accessTokenTTL: 3600,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            },
    },
  },
});

const server = createServer(provider.callback());
server.listen(Number(process.env.BENCH_PEER_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
  );
});
const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
