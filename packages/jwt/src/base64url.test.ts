import { describe, expect, it } from 'vitest';
import { decodeBase64urlStrict, isBase64url } from './base64url.js';

describe('isBase64url', () => {
  it('accepts what Buffer encodes, for every length remainder', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) & 0xff));
      expect(isBase64url(bytes.toString('base64url'))).toBe(true);
    }
  });

  it('refuses padding, the standard alphabet and stray characters', () => {
    for (const text of ['QQ==', 'a+b/', 'ab cd', 'ab.c', 'abcé', 'ab\ncd'])
      expect(isBase64url(text)).toBe(false);
  });

  it('refuses a length that no byte string encodes to', () => {
    expect(isBase64url('abcde')).toBe(false);
  });

  it('refuses non-canonical spellings whose spare bits are set', () => {
    // "QQ" is "A"; "QR" decodes to "A" too with Buffer, but its spare bits are not zero.
    expect(isBase64url('QQ')).toBe(true);
    expect(isBase64url('QR')).toBe(false);
    expect(isBase64url('QUI')).toBe(true);
    expect(isBase64url('QUJ')).toBe(false);
  });
});

describe('decodeBase64urlStrict', () => {
  it('decodes exactly what isBase64url accepts, to the bytes Buffer decodes', () => {
    const samples = [
      '',
      'AA',
      'AQ',
      'AAA',
      'AAE',
      'AAAA',
      'A',
      'A+B/',
      'AB==',
      'AB C',
      'AB\\nC',
      'ABé',
      'ABC.',
      '-_-_',
      ...Array.from({ length: 300 }, (_, i) =>
        Buffer.from(Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 7) % 256)).toString(
          'base64url',
        ),
      ),
    ];
    for (const sample of samples) {
      const decoded = decodeBase64urlStrict(sample);
      expect(decoded !== undefined).toBe(isBase64url(sample));
      if (decoded) expect(decoded.equals(Buffer.from(sample, 'base64url'))).toBe(true);
    }
    // Every one-character change of a valid string is either refused or a different valid string.
    const valid = Buffer.from('a token signature of some length!').toString('base64url');
    for (let i = 0; i < valid.length; i++)
      for (let code = 0; code < 256; code++) {
        const changed = valid.slice(0, i) + String.fromCharCode(code) + valid.slice(i + 1);
        expect(decodeBase64urlStrict(changed) !== undefined).toBe(isBase64url(changed));
      }
  });
});
