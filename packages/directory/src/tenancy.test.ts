import { describe, expect, it } from 'vitest';
import { orgBaseUrl } from './tenancy.js';

describe('orgBaseUrl', () => {
  it('puts the tenant in the path under the public URL, without a doubled slash', () => {
    expect(orgBaseUrl({ mode: 'path', publicUrl: new URL('http://localhost:9000') }, 'acme')).toBe(
      'http://localhost:9000/acme',
    );
    expect(
      orgBaseUrl({ mode: 'path', publicUrl: new URL('https://id.example.com/auth/') }, 'acme'),
    ).toBe('https://id.example.com/auth/acme');
  });

  it('makes the tenant a host under the tenant domain in host mode', () => {
    expect(
      orgBaseUrl(
        { mode: 'host', publicUrl: new URL('https://example.com'), domain: 'example.com' },
        'acme',
      ),
    ).toBe('https://acme.example.com');
  });
});
