// Steady HTTP load over keep-alive connections, for shutdown tests: `connections` loops, each sending
// its next request as soon as the last one is answered, over one keep-alive agent on 127.0.0.1.
// A request fails when it was sent and got no complete response; a connection refused was never
// sent (the server stopped accepting), and ends that loop.
import { Agent, request } from 'node:http';

export interface LoadResult {
  /** Complete responses. */
  answered: number;
  /** Of those, the ones that said `Connection: close` (the server draining). */
  answeredWithClose: number;
  /** Requests sent that got no complete response: what went wrong with each. */
  failed: string[];
  /** New connections refused (the server no longer listening). */
  refused: number;
  statuses: Record<number, number>;
}

export interface SteadyLoad {
  /** Resolves with the result once every loop has ended (refused, or told to stop). */
  stop(): Promise<LoadResult>;
  /** Resolves once every loop has been refused (the server stopped accepting and closed). */
  refusedEverywhere: Promise<LoadResult>;
  /** What happened so far. */
  result: LoadResult;
}

export function steadyLoad(options: {
  port: number;
  paths: readonly string[];
  headers?: Record<string, string>;
  connections?: number;
}): SteadyLoad {
  const connections = options.connections ?? 8;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = {
    answered: 0,
    answeredWithClose: 0,
    failed: [],
    refused: 0,
    statuses: {},
  };
  let stopped = false;
  const once = (path: string) =>
    new Promise<'answered' | 'refused' | 'failed'>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          path,
          agent,
          headers: options.headers ?? {},
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            result.answered += 1;
            result.statuses[res.statusCode ?? 0] = (result.statuses[res.statusCode ?? 0] ?? 0) + 1;
            if (res.headers.connection === 'close') result.answeredWithClose += 1;
            resolve('answered');
          });
          res.once('error', (error) => {
            result.failed.push(`${path}: response: ${error.message}`);
            resolve('failed');
          });
        },
      );
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') {
          result.refused += 1;
          resolve('refused');
          return;
        }
        result.failed.push(`${path}: ${error.code ?? error.message}`);
        resolve('failed');
      });
      req.end();
    });
  const loops = Array.from({ length: connections }, async (_, i) => {
    for (let n = i; !stopped; n++) {
      const outcome = await once(options.paths[n % options.paths.length]!);
      if (outcome === 'refused') return;
    }
  });
  const all = Promise.all(loops).then(() => {
    agent.destroy();
    return result;
  });
  return {
    result,
    refusedEverywhere: all,
    stop() {
      stopped = true;
      return all;
    },
  };
}
