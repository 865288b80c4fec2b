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
