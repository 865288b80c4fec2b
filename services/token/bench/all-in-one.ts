// The all-in-one server of `pnpm bench:token`: apps/all-in-one/src/main.ts, the `pnpm start`
// server (every service, the embedded event log under a data directory of its own, in-memory read
// models, one process), started as a child process of the bench (bench-kit's start: pinned, stopped
// by PID), importing the built packages as the other servers do. For the bench: 127.0.0.1 only,
// no demo tenant, no key pool (keys are made when the tenant is created, not in the measured
// windows), the bench client's /token budget raised, /metrics on a port of its own, and log level
// warn (no request lines: the token service as the bench runs it writes none either). Through the
// admin API it gets a tenant, the scope orders.read and a service client, as an operator would.
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@gatehouse/testkit';
import { basic, type Server, start, stop } from './bench-kit.js';

export interface AllInOne {
  server: Server;
  /** Its Prometheus /metrics (a port of its own). */
  metricsUrl: string;
  tenant: string;
  /** Checks a token it issued: signature (its JWKS), issuer, audience and scope. */
  check(token: string): Promise<void>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

async function send(url: string, authorization: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function startAllInOne(cpu: string): Promise<AllInOne> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-token-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const adminToken = randomBytes(32).toString('base64url');
  const base = `http://127.0.0.1:${port}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const child = start(new URL('../../../apps/all-in-one/src/main.ts', import.meta.url), {
    cpu,
    env: {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`,
      GATEHOUSE_TENANT_MODE: 'path',
      GATEHOUSE_ADMIN_TOKEN: adminToken,
      GATEHOUSE_KEK: '',
      GATEHOUSE_DEMO: 'false',
      GATEHOUSE_KEY_POOL_SIZE: '0',
      GATEHOUSE_METRICS_PORT: String(metricsPort),
      GATEHOUSE_METRICS_HOST: '127.0.0.1',
      GATEHOUSE_LOG_LEVEL: 'warn',
      // The bench's one client sends thousands of tokens a minute.
      GATEHOUSE_RATE_LIMITS: JSON.stringify({
        defaults: { tokenClient: { limit: 1_000_000, windowSeconds: 60 } },
      }),
    },
    profile: true,
  });
  // Its stdout is read (a full pipe would block it); what it says is kept for an error message.
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 20) output.shift();
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `the all-in-one server exited (${code ?? signal}): ${output.join('').slice(-2000)}`;
  });
  const close = async () => {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // Listening once its /metrics answers (it opens that port after the public one).
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (exited) throw new Error(exited);
      if (Date.now() > deadline) throw new Error('the all-in-one server did not listen in 90 s');
      const ok = await fetch(metricsUrl).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(200);
    }

    const tenant = `bench-${randomBytes(4).toString('hex')}`;
    const { apiToken } = await send(`${base}/api/v1/tenants`, `SSWS ${adminToken}`, {
      id: tenant,
      name: 'Bench',
    });
    const ssws = `SSWS ${apiToken as string}`;
    const client = await send(`${base}/${tenant}/oauth2/v1/clients`, ssws, {
      client_name: 'Bench service',
      application_type: 'service',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    await send(`${base}/${tenant}/api/v1/authorizationServers/default/scopes`, ssws, {
      name: 'orders.read',
    });
    const issuer = `http://localhost:${port}/${tenant}/oauth2/default`;
    return {
      server: {
        name: 'all-in-one',
        child,
        target: {
          port,
          path: `/${tenant}/oauth2/default/v1/token`,
          authorization: basic(client.client_id as string, client.client_secret as string),
        },
      },
      metricsUrl,
      tenant,
      async check(token) {
        const [header, payload, signature] = token.split('.') as [string, string, string];
        const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
        const jwks = (await (await fetch(`${base}/${tenant}/oauth2/default/v1/keys`)).json()) as {
          keys: { kid: string }[];
        };
        const jwk = jwks.keys.find((key) => key.kid === kid);
        if (!jwk) throw new Error(`all-in-one token: kid ${kid} is not in its JWKS`);
        const key = createPublicKey({ key: jwk as never, format: 'jwk' });
        if (
          !verify(
            'sha256',
            Buffer.from(`${header}.${payload}`),
            key,
            Buffer.from(signature, 'base64url'),
          )
        )
          throw new Error('all-in-one token: the signature does not verify');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
          iss?: string;
          aud?: string;
          scp?: string[];
        };
        if (
          claims.iss !== issuer ||
          claims.aud !== 'api://default' ||
          claims.scp?.join(' ') !== 'orders.read'
        )
          throw new Error(`all-in-one token: unexpected claims ${JSON.stringify(claims)}`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
