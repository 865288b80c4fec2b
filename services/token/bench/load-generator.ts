// The load generator of `pnpm bench:token` and `pnpm bench:validation`, a child process of its own
// (pinned by the parent to the core the servers under test do not use). Told over IPC what to send,
// it keeps `concurrency` requests in flight per target on keep-alive connections, `count` requests
// in all, and answers with the elapsed time, every latency and any response that was not the one
// expected.
import { Agent, request } from 'node:http';

export interface Target {
  port: number;
  path: string;
  authorization: string;
}

export interface LoadCommand {
  targets: Target[];
  /** Default POST, which sends `body` as a form; a GET sends no body. */
  method?: 'GET' | 'POST';
  body?: string;
  /** What a 200's body must contain to count. Default `"access_token":"ey` (a JWT access token). */
  expect?: string;
  /** Requests in flight per target. */
  concurrency: number;
  count: number;
}

export interface LoadResult {
  count: number;
  ms: number;
  /** Every request's latency, sorted. */
  latenciesMs: number[];
  /** Requests answered by each target, in the order given. */
  perTarget: number[];
  /** Responses that were not 200 with `expect`, by status (0: a connection error). */
  failures: Record<string, number>;
  /** The first such response's body (its start), by status. */
  failedBodies: Record<string, string>;
}

async function run(command: LoadCommand): Promise<LoadResult> {
  const method = command.method ?? 'POST';
  const body = method === 'POST' ? Buffer.from(command.body ?? '') : undefined;
  const expect = command.expect ?? '"access_token":"ey';
  const clients = command.targets.map((target) => ({
    target,
    agent: new Agent({ keepAlive: true, maxSockets: command.concurrency }),
    headers: {
      host: `127.0.0.1:${target.port}`,
      ...(body
        ? {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(body.length),
          }
        : {}),
      authorization: target.authorization,
    },
  }));
  const latencies = new Float64Array(command.count);
  const failures: Record<string, number> = {};
  const failedBodies: Record<string, string> = {};
  const perTarget = command.targets.map(() => 0);
  let next = 0;
  const once = (client: (typeof clients)[number]) =>
    new Promise<void>((resolve) => {
      const fail = (status: number, body = '') => {
        failures[status] = (failures[status] ?? 0) + 1;
        failedBodies[status] ??= body.slice(0, 300);
        resolve();
      };
      const req = request(
        {
          host: '127.0.0.1',
          port: client.target.port,
          path: client.target.path,
          method,
          agent: client.agent,
          headers: client.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('latin1');
            if (res.statusCode !== 200 || !text.includes(expect))
              return fail(res.statusCode ?? 0, text);
            resolve();
          });
          res.on('error', () => fail(0));
        },
      );
      req.on('error', () => fail(0));
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    clients.flatMap((client, c) =>
      Array.from({ length: command.concurrency }, async () => {
        while (next < command.count) {
          const i = next++;
          const t = performance.now();
          await once(client);
          latencies[i] = performance.now() - t;
          perTarget[c] = perTarget[c]! + 1;
        }
      }),
    ),
  );
  const ms = performance.now() - started;
  for (const { agent } of clients) agent.destroy();
  latencies.sort();
  return {
    count: command.count,
    ms,
    latenciesMs: Array.from(latencies),
    perTarget,
    failures,
    failedBodies,
  };
}

if (!process.send) throw new Error('load-generator: start me with an IPC channel');
process.on('message', (command: LoadCommand) => {
  run(command).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
