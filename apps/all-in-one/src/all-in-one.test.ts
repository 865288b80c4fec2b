import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehouse/config';
import { newKekSetting, parseKeks } from '@gatehouse/signing-keys';
import { loadOrCreateSecrets } from '@gatehouse/topology';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAllInOneConfig } from './config.js';
import { type Demo, demoCallbackPage } from './demo.js';

describe('all-in-one settings', () => {
  it('needs nothing: port 9000 on this machine only, ./data, the public URL on its port', () => {
    const config = readAllInOneConfig({}, '/srv/gatehouse');
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      dataDir: '/srv/gatehouse/data',
      demo: true,
      adminToken: undefined,
      kek: undefined,
    });
    expect(config.tenancy.publicUrl.href).toBe('http://localhost:9000/');
    expect(readAllInOneConfig({ GATEHOUSE_PORT: '9100' }).tenancy.publicUrl.href).toBe(
      'http://localhost:9100/',
    );
  });

  it('names the variable of a bad value', () => {
    expect(() => readAllInOneConfig({ GATEHOUSE_PORT: 'http' })).toThrow(ConfigError);
    expect(() => readAllInOneConfig({ GATEHOUSE_ADMIN_TOKEN: 'short' })).toThrow(
      'GATEHOUSE_ADMIN_TOKEN',
    );
    expect(() => readAllInOneConfig({ GATEHOUSE_DEMO: 'maybe' })).toThrow('GATEHOUSE_DEMO');
    expect(() => readAllInOneConfig({ GATEHOUSE_METRICS_PORT: 'on' })).toThrow(
      'GATEHOUSE_METRICS_PORT',
    );
  });

  it('serves /metrics on a port of its own: 9464 on this machine, any free one, or none', () => {
    expect(readAllInOneConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(
      readAllInOneConfig({ GATEHOUSE_METRICS_PORT: '0', GATEHOUSE_METRICS_HOST: '0.0.0.0' })
        .metrics,
    ).toEqual({ port: 0, host: '0.0.0.0' });
    expect(readAllInOneConfig({ GATEHOUSE_METRICS_PORT: 'off' }).metrics).toBeUndefined();
  });
});

describe('secrets of the all-in-one', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('generates what it is not given once, keeps it readable by the owner only, and reads it back', async () => {
    const first = await loadOrCreateSecrets(dir, {});
    expect(first.created).toBe(true);
    expect(first.adminToken).toMatch(/^[\w-]{43}$/);
    expect(parseKeks(first.kek).current.id).toBe('kek-local');
    expect((await stat(join(dir, 'secrets.json'))).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateSecrets(dir, {});
    expect(second).toEqual({ ...first, created: false });
  });

  it('never writes a secret it was given; a given KEK seals, the kept one still opens', async () => {
    const kept = await loadOrCreateSecrets(dir, {});
    const given = newKekSetting('kek-2');
    const secrets = await loadOrCreateSecrets(dir, {
      adminToken: 'x'.repeat(40),
      kek: given,
    });
    expect(secrets.adminToken).toBe('x'.repeat(40));
    const keks = parseKeks(secrets.kek);
    expect(keks.current.id).toBe('kek-2');
    expect([...keks.byId.keys()].sort()).toEqual(['kek-2', 'kek-local']);
    const file = await readFile(join(dir, 'secrets.json'), 'utf8');
    expect(file).not.toContain('x'.repeat(40));
    expect(file).not.toContain(given.split(':')[1]);
    expect(JSON.parse(file)).toEqual({ adminToken: kept.adminToken, kek: kept.kek });
  });
});

describe('the demo callback page', () => {
  const demo: Demo = {
    tenant: 'demo',
    orgUrl: 'http://localhost:9000/demo',
    issuer: 'http://localhost:9000/demo/oauth2/default',
    apiToken: 'api-token-never-shown',
    user: { id: '00u1', login: 'demo@example.com', password: 'password-never-shown' },
    web: {
      clientId: '0oaWeb',
      clientSecret: 'secret-never-shown',
      redirectUri: 'http://localhost:9000/_demo/callback',
    },
    spa: { clientId: '0oaSpa', redirectUri: 'http://localhost:5173/callback' },
  };
  const page = async (query: string) => {
    const server = createServer(
      demoCallbackPage(
        () => demo,
        () => 'the-verifier',
      ),
    ).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/_demo/callback?${query}`);
      return {
        status: response.status,
        csp: response.headers.get('content-security-policy'),
        html: await response.text(),
      };
    } finally {
      server.close();
    }
  };

  it('shows the code and how to redeem it, but no secret: anyone who reaches the server can open it', async () => {
    const shown = await page('code=abc-DEF_123&state=s');
    expect(shown.status).toBe(200);
    expect(shown.csp).toContain("default-src 'none'");
    expect(shown.html).toContain('abc-DEF_123');
    expect(shown.html).toContain('the-verifier');
    expect(shown.html).toContain('0oaWeb:$CLIENT_SECRET');
    for (const secret of ['secret-never-shown', 'password-never-shown', 'api-token-never-shown'])
      expect(shown.html).not.toContain(secret);
  });

  it('puts nothing but a well-formed code into the command to copy, and escapes what it shows', async () => {
    const injected = await page(`code=${encodeURIComponent("x'; rm -rf ~; '")}`);
    expect(injected.status).toBe(400);
    expect(injected.html).not.toContain('rm -rf');
    const error = await page(
      'error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    );
    expect(error.status).toBe(400);
    expect(error.html).toContain('access_denied');
    expect(error.html).toContain('&lt;script&gt;');
    expect(error.html).not.toContain('<script>');
  });
});
