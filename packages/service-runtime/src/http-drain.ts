// An HTTP server that can be drained: at shutdown it stops accepting, answers every request still
// to come on an open connection with `Connection: close` (so the client reopens elsewhere, and the
// connection ends after that response), and closes connections that sit idle. Force-closing what
// is left is the caller's, when its grace period runs out.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

export interface DrainOptions {
  /**
   * How long a connection must have been idle before draining closes it. Not 0: a client with
   * steady traffic sends its next request a moment after the last response, and a connection
   * closed in that moment fails the request already on its way. Default 250 ms.
   */
  idleCloseMs?: number;
}

export interface DrainableServer {
  server: Server;
  /** Stops accepting and drains; resolves once every connection has ended. Idempotent. */
  drain(): Promise<void>;
  /** Destroys every connection left (the grace period is over). */
  forceClose(): void;
}

interface ConnectionState {
  inFlight: number;
  idleSince: number;
}

export function drainableServer(
  listener: RequestListener,
  options: DrainOptions = {},
): DrainableServer {
  const idleCloseMs = options.idleCloseMs ?? 250;
  const connections = new Map<Socket, ConnectionState>();
  const responses = new Set<ServerResponse>();
  let draining: Promise<void> | undefined;
  let sweep: NodeJS.Timeout | undefined;

  const closeIdle = () => {
    const now = performance.now();
    for (const [socket, state] of connections) {
      if (state.inFlight === 0 && now - state.idleSince >= idleCloseMs) socket.destroy();
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const state = connections.get(req.socket);
    if (state) state.inFlight += 1;
    responses.add(res);
    res.once('close', () => {
      responses.delete(res);
      if (state) {
        state.inFlight -= 1;
        state.idleSince = performance.now();
      }
    });
    if (draining) res.setHeader('Connection', 'close');
    listener(req, res);
  });
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { inFlight: 0, idleSince: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });

  return {
    server,
    drain() {
      draining ??= new Promise<void>((resolve) => {
        // Responses not begun yet end their connection; those already under way end it when the
        // next request on it is answered, or the sweep finds it idle.
        for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
        // net.Server's close: stops accepting and waits for the connections, without http.Server's
        // own closing of every idle connection at once (which races with requests on their way).
        NetServer.prototype.close.call(server, () => {
          clearInterval(sweep);
          resolve();
        });
        closeIdle();
        sweep = setInterval(closeIdle, Math.max(10, Math.floor(idleCloseMs / 2)));
        sweep.unref();
      });
      return draining;
    },
    forceClose() {
      clearInterval(sweep);
      server.closeAllConnections();
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}
