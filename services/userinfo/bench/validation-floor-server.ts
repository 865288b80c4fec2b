// The floor of `pnpm bench:validation`: what any validation of a Gatehouse access token costs on
// node:http before the service does anything of its own. Per request: read the Bearer token, verify
// its RS256 signature and claims (verifyJwt, with the server's keys loaded once), and run the one
// invalidation check with the user's reads (checkToken: one Redis command), then answer {"sub":...}.
// No koa, no router, no tenant resolution, no directory cache, no claims logic, no error shapes:
// the parts no implementation of the issue's check can leave out. Same settings as the userinfo
// bench server (GATEHOUSE_REDIS_URL, GATEHOUSE_KEK, GATEHOUSE_BENCH_REDIS_PREFIX), plus
// BENCH_FLOOR_TENANT, BENCH_FLOOR_ISSUER and BENCH_FLOOR_AUDIENCE. Prints {"port":N} once it listens.
import { createServer } from 'node:http';
import { bindingDigestOfTokenId, grantIdOfTokenId } from '@gatehouse/grants';
import { verifyJwt } from '@gatehouse/jwt';
import { checkToken, subjectReads } from '@gatehouse/oauth-reads';
import { RedisProjectionStore } from '@gatehouse/projection-store';
import { KeyRing, readKekSetting, storeKeySource } from '@gatehouse/signing-keys';

const tenant = process.env.BENCH_FLOOR_TENANT ?? '';
const serverId = 'default';
const issuer = process.env.BENCH_FLOOR_ISSUER ?? '';
const audience = process.env.BENCH_FLOOR_AUDIENCE ?? '';
const store = new RedisProjectionStore({
  url: process.env.GATEHOUSE_REDIS_URL ?? '',
  ...(process.env.GATEHOUSE_BENCH_REDIS_PREFIX
    ? { keyPrefix: process.env.GATEHOUSE_BENCH_REDIS_PREFIX }
    : {}),
});
const keys = await new KeyRing(storeKeySource(store), readKekSetting(process.env)).verificationKeys(
  tenant,
  serverId,
);
const guard = { now: Date.now, maxLagMs: Number(process.env.GATEHOUSE_MAX_PROJECTION_LAG_MS) };
const refuse = (res: import('node:http').ServerResponse) => res.writeHead(401).end();

const server = createServer(async (req, res) => {
  try {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return refuse(res);
    const { claims } = verifyJwt(token, { issuer, audience, keys, now: Date.now });
    const jti = claims.jti as string;
    const uid = claims.uid as string;
    const checked = await checkToken(
      store,
      {
        binding: { tenant, serverId, clientId: claims.cid as string, userId: uid },
        bindingDigest: bindingDigestOfTokenId(jti)!,
        grantId: grantIdOfTokenId(jti)!,
        jti,
      },
      guard,
      subjectReads(tenant, uid),
    );
    if (!checked.valid) return refuse(res);
    const body = JSON.stringify({ sub: uid });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  } catch {
    refuse(res);
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
  );
});
process.once('SIGTERM', () => {
  server.close(() => void store.close().then(() => process.exit(0)));
  server.closeAllConnections();
});
