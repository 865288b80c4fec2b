import { describe, expect, it } from 'vitest';
import { ConfigError, setting } from './index.js';

describe('setting', () => {
  it('reads values and defaults', () => {
    const env = { PORT: ' 8080 ', URL: 'https://id.example.com', MODE: 'host', LIST: 'a:1, b:2,' };
    expect(setting.integer(env, 'PORT', { default: 1, min: 1, max: 65535 })).toBe(8080);
    expect(setting.integer(env, 'MISSING', { default: 9000, min: 1, max: 65535 })).toBe(9000);
    expect(setting.url(env, 'URL').host).toBe('id.example.com');
    expect(setting.oneOf(env, 'MODE', ['path', 'host'], 'path')).toBe('host');
    expect(setting.oneOf(env, 'NONE', ['path', 'host'], 'path')).toBe('path');
    expect(setting.list(env, 'LIST')).toEqual(['a:1', 'b:2']);
    expect(setting.string({ X: '' }, 'X', { default: 'd' })).toBe('d');
  });

  it('names the variable in every refusal', () => {
    const cases: [() => unknown, string][] = [
      [
        () => setting.integer({ PORT: 'eighty' }, 'PORT', { default: 1, min: 1, max: 65535 }),
        'PORT: must be a whole number from 1 to 65535, not "eighty"',
      ],
      [() => setting.url({ URL: 'not a url' }, 'URL'), 'URL: "not a url" is not a URL'],
      [() => setting.url({ URL: 'ftp://x' }, 'URL'), 'URL: must use http: or https:, not ftp:'],
      [
        () => setting.oneOf({ MODE: 'dns' }, 'MODE', ['path', 'host'], 'path'),
        'MODE: must be one of path, host, not "dns"',
      ],
      [
        () => setting.string({}, 'TOKEN', { hint: 'at least 32 characters' }),
        'TOKEN: is required (at least 32 characters)',
      ],
      [() => setting.list({ L: ' , ' }, 'L'), 'L: must list at least one value'],
    ];
    for (const [read, message] of cases) {
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(message);
    }
  });
});
