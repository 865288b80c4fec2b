// The floor of `pnpm bench:token`: what any token endpoint on node:http costs before it does
// anything of its own. BENCH_FLOOR_MODE=answer reads the request and answers a ready-made token;
// BENCH_FLOOR_MODE=sign also signs a fresh access token per request (new jti and times, RS256 with
// node:crypto): an endpoint with no client lookup, no policy, no claims logic and no event. It prints
// one line, {"port":N}, once it listens.
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';

const mode = process.env.BENCH_FLOOR_MODE === 'sign' ? 'sign' : 'answer';
const readyToken = process.env.BENCH_FLOOR_TOKEN ?? '';
const key = createPrivateKey(process.env.BENCH_FLOOR_KEY_PEM ?? '');
const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'floor' })).toString('base64url');

const freshToken = () => {
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(
    JSON.stringify({
      ver: 1,
      jti: `AT.${randomBytes(16).toString('base64url')}`,
      iss: 'http://localhost:9000/bench/oauth2/default',
      aud: 'api://default',
      iat: now,
      exp: now + 3600,
      cid: 'bench-client',
      scp: ['orders.read'],
      sub: 'bench-client',
    }),
  ).toString('base64url');
  const input = `${header}.${payload}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (!req.headers.authorization || Buffer.concat(chunks).length === 0) {
      res.writeHead(400).end();
      return;
    }
    const body = JSON.stringify({
      token_type: 'Bearer',
      expires_in: 3600,
      access_token: mode === 'sign' ? freshToken() : readyToken,
      scope: 'orders.read',
    });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
  );
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
