import { describe, expect, it } from 'vitest';
import { RemoteJwks } from './client-assertion.js';

describe("a client's jwks_uri", () => {
  it('is fetched over https only, http on loopback only where the deployment allows it', async () => {
    await expect(new RemoteJwks().keys('http://127.0.0.1:1/jwks')).rejects.toThrow(
      "The client's jwks_uri cannot be used: it must use https.",
    );
    const loopback = new RemoteJwks({ allowHttpLoopback: true });
    await expect(loopback.keys('http://example.com/jwks')).rejects.toThrow('it must use https');
    // Allowed, and nothing listens there: refused as unreachable, not as insecure.
    await expect(loopback.keys('http://127.0.0.1:1/jwks')).rejects.toThrow(
      'it could not be reached',
    );
  });
});

describe("a client's jwks_uri inside the deployment's network (SSRF)", () => {
  it('is refused before any connection: private, loopback, link-local and mapped addresses, literal or by name', async () => {
    const jwks = new RemoteJwks({ timeoutMs: 2_000 });
    for (const uri of [
      'https://127.0.0.1/jwks',
      'https://10.1.2.3/jwks',
      'https://169.254.169.254/latest/meta-data',
      'https://192.168.0.1/jwks',
      'https://[::1]/jwks',
      'https://[fd00::1]/jwks',
      'https://[::ffff:10.0.0.1]/jwks',
      'https://localhost/jwks',
    ])
      await expect(jwks.keys(uri), uri).rejects.toThrow(
        'it resolves to a private, loopback or link-local address',
      );
  });

  it('lets loopback through only where http on loopback is allowed (development, tests)', async () => {
    const loopback = new RemoteJwks({ allowHttpLoopback: true, timeoutMs: 2_000 });
    // Allowed, and nothing listens there: unreachable rather than private.
    await expect(loopback.keys('https://127.0.0.1:1/jwks')).rejects.toThrow('could not be reached');
    await expect(loopback.keys('https://10.1.2.3/jwks')).rejects.toThrow('private');
  });
});
