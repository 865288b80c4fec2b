// The log lines: their fields, the level variable, redaction, the request line's level, the trace id.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, readLogLevel, requestLevel, traceIdOf } from './index.js';

function captured(level?: Parameters<typeof createLogger>[0]['level']) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return {
    lines,
    logger: createLogger({ service: 'token', destination, ...(level ? { level } : {}) }),
  };
}

describe('logging', () => {
  it('writes JSON lines with an ISO time, the level by name, the service and the message', () => {
    const { lines, logger } = captured();
    logger.info({ topic: 'gatehouse.grants' }, 'consuming');
    logger.debug('not at info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'token',
      message: 'consuming',
      topic: 'gatehouse.grants',
    });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
  });

  it('reads GATEHOUSE_LOG_LEVEL, and refuses a level it does not know naming the variable', () => {
    expect(readLogLevel({})).toBe('info');
    expect(readLogLevel({ GATEHOUSE_LOG_LEVEL: ' Debug ' })).toBe('debug');
    expect(() => readLogLevel({ GATEHOUSE_LOG_LEVEL: 'verbose' })).toThrow(/GATEHOUSE_LOG_LEVEL/);
    const { lines, logger } = captured('warn');
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((line) => line.message)).toEqual(['loud']);
  });

  it('never writes a field named like a secret, at the top or one level down', () => {
    const { lines, logger } = captured();
    logger.error(
      {
        password: 'hunter2',
        client_secret: 'shh',
        request: { authorization: 'Bearer abc', refresh_token: 'rt', code: 'c0de', path: '/x' },
        'set-cookie': 'sid=1',
      },
      'failed',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['hunter2', 'shh', 'Bearer abc', '"rt"', 'c0de', 'sid=1'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ password: '[redacted]', request: { path: '/x' } });
  });

  it('writes a request line at info, a 503 (unavailable for now) at warn, another 5xx at error', () => {
    expect([200, 404, 429, 503, 500, 502].map(requestLevel)).toEqual([
      'info',
      'info',
      'info',
      'warn',
      'error',
      'error',
    ]);
  });

  it('takes the trace id of a W3C traceparent, and nothing of a malformed one', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(traceIdOf(`00-${id}-00f067aa0ba902b7-01`)).toBe(id);
    for (const bad of [undefined, '', 'x', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, [id]])
      expect(traceIdOf(bad)).toBeUndefined();
  });
});
