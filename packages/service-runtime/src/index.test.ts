import { ConfigError } from '@gatehouse/config';
import { describe, expect, it } from 'vitest';
import { readConfigOrExit, Shutdown } from './index.js';

describe('readConfigOrExit', () => {
  const exit = (code: number, message: string): never => {
    throw Object.assign(new Error(message), { code });
  };

  it('gives the settings when they are valid', () => {
    expect(
      readConfigOrExit('token', (env) => ({ port: Number(env.PORT) }), { PORT: '9011' }, exit),
    ).toEqual({ port: 9011 });
  });

  it('ends with exit code 78 and the reason on a configuration error', () => {
    const read = () => {
      throw new ConfigError('GATEHOUSE_KAFKA_BROKERS', 'required');
    };
    expect(() => readConfigOrExit('token', read, {}, exit)).toThrow(
      expect.objectContaining({
        code: 78,
        message: 'token: configuration error: GATEHOUSE_KAFKA_BROKERS: required\n',
      }),
    );
  });

  it('lets any other error through', () => {
    const read = () => {
      throw new TypeError('bug');
    };
    expect(() => readConfigOrExit('token', read, {}, exit)).toThrow(TypeError);
  });
});

describe('Shutdown', () => {
  it('closes the last opened first, each once, however often it is asked', async () => {
    const closed: string[] = [];
    const shutdown = new Shutdown(() => {});
    for (const name of ['bus', 'store', 'server']) shutdown.add(() => closed.push(name));
    await Promise.all([shutdown.run(), shutdown.run()]);
    await shutdown.run();
    expect(closed).toEqual(['server', 'store', 'bus']);
  });

  it('reports a close that fails and goes on with the others', async () => {
    const closed: string[] = [];
    const reported: unknown[] = [];
    const shutdown = new Shutdown((error) => reported.push(error));
    shutdown.add(() => closed.push('bus'));
    shutdown.add(async () => {
      throw new Error('redis gone');
    });
    shutdown.add(() => closed.push('server'));
    await shutdown.run();
    expect(closed).toEqual(['server', 'bus']);
    expect(reported).toEqual([new Error('redis gone')]);
  });
});
