// How a bench server process listens: on 127.0.0.1 only, printing one line {"port":N} once it
// does, and on SIGTERM or SIGINT closing its connections, then `close` (what it started), then
// exiting.
import type Koa from 'koa';

export function serveBench(app: Koa, port: number, close: () => Promise<void>): void {
  const server = app.listen(port, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`,
    );
  });
  const shutdown = () => {
    server.close(async () => {
      await close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
