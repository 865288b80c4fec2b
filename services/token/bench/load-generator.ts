// The load generator of `pnpm bench:token` and `pnpm bench:validation`, a child process of its own
// (pinned by the parent to the core the servers under test do not use). Told over IPC what to send,
// it keeps `concurrency` requests in flight per target on keep-alive connections, `count` requests
// in all, and answers with the elapsed time, every latency and any response that was not the one
// expected.
//
// HTTP/1.1 straight over sockets: each request is built once as bytes, and a response is read as
// its status line, Content-Length (or chunks) and body. node:http's client cost about as much CPU
// per request as the servers under test, so on its core (shared with Redis and Kafka) it could not
// keep them busy, and a server that is not busy spends more CPU per request (fewer requests per
// wakeup): the figures then measured the load generator as much as the server.
import { connect, type Socket } from 'node:net';

export interface Target {
  port: number;
  path: string;
  /** The Authorization header; none when empty (a client that authenticates in the body). */
  authorization: string;
}

export interface LoadCommand {
  targets: Target[];
  /** Default POST, which sends `body` as a form; a GET sends no body. */
  method?: 'GET' | 'POST';
  body?: string;
  /**
   * A body for each request instead of `body`, used in order (at least `count` of them): requests
   * that must differ, such as client assertions, each used once.
   */
  bodies?: string[];
  /**
   * An extra header line for each request (`Name: value`, no CRLF), used in order as `bodies` are
   * (at least `count` of them): headers that must differ, such as DPoP proofs, each used once.
   */
  headers?: string[];
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

interface Response {
  status: number;
  body: string;
}

/** Reads HTTP/1.1 responses off one keep-alive connection, one request in flight at a time. */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (response: Response) => void; reject: (error: Error) => void };
  private closed?: Error;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    const fail = (error: Error) => {
      this.closed ??= error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  send(request: Buffer): Promise<Response> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body: Buffer | undefined;
    let rest: Buffer;
    if (length) {
      const end = headEnd + 4 + Number(length[1]);
      if (this.buffered.length < end) return;
      body = this.buffered.subarray(headEnd + 4, end);
      rest = this.buffered.subarray(end);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const chunks: Buffer[] = [];
      let at = headEnd + 4;
      for (;;) {
        const lineEnd = this.buffered.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = Number.parseInt(this.buffered.toString('latin1', at, lineEnd), 16);
        if (this.buffered.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          rest = this.buffered.subarray(lineEnd + 4);
          break;
        }
        chunks.push(this.buffered.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(chunks);
    } else {
      // No body (a 204, or a response without one): nothing more to wait for.
      body = Buffer.alloc(0);
      rest = this.buffered.subarray(headEnd + 4);
    }
    this.buffered = rest.length === 0 ? Buffer.alloc(0) : Buffer.from(rest);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ status, body: body.toString('latin1') });
  }
}

async function run(command: LoadCommand): Promise<LoadResult> {
  const method = command.method ?? 'POST';
  if (command.bodies && command.bodies.length < command.count)
    throw new Error(`${command.count} requests, only ${command.bodies.length} bodies`);
  if (command.headers && command.headers.length < command.count)
    throw new Error(`${command.count} requests, only ${command.headers.length} headers`);
  const expect = command.expect ?? '"access_token":"ey';
  const requestOf = (target: Target, text: string | undefined, header?: string) => {
    const body = method === 'POST' ? Buffer.from(text ?? '') : undefined;
    return Buffer.concat([
      Buffer.from(
        `${method} ${target.path} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n` +
          (target.authorization ? `Authorization: ${target.authorization}\r\n` : '') +
          (header ? `${header}\r\n` : '') +
          (body
            ? `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n`
            : '') +
          '\r\n',
        'latin1',
      ),
      body ?? Buffer.alloc(0),
    ]);
  };
  // Built once per target; with `bodies` or `headers`, each request is built as it is sent.
  const requests = command.targets.map((target) => requestOf(target, command.body));
  const { bodies, headers } = command;
  const latencies = new Float64Array(command.count);
  const failures: Record<string, number> = {};
  const failedBodies: Record<string, string> = {};
  const perTarget = command.targets.map(() => 0);
  const fail = (status: number, text = '') => {
    failures[status] = (failures[status] ?? 0) + 1;
    failedBodies[status] ??= text.slice(0, 300);
  };
  const open: Connection[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    command.targets.flatMap((target, t) =>
      Array.from({ length: command.concurrency }, async () => {
        let connection = new Connection(target.port);
        open.push(connection);
        while (next < command.count) {
          const i = next++;
          const sent = performance.now();
          try {
            const response = await connection.send(
              bodies || headers
                ? requestOf(target, bodies ? bodies[i] : command.body, headers?.[i])
                : requests[t]!,
            );
            if (response.status !== 200 || !response.body.includes(expect))
              fail(response.status, response.body);
          } catch (error) {
            fail(0, String(error));
            connection.close();
            connection = new Connection(target.port);
            open.push(connection);
          }
          latencies[i] = performance.now() - sent;
          perTarget[t] = perTarget[t]! + 1;
        }
      }),
    ),
  );
  const ms = performance.now() - started;
  for (const connection of open) connection.close();
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
