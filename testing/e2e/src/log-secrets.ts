// No secret in the logs (issue 20): while a deployment's suite runs, every secret its requests
// carry or its responses hand out through fetch (passwords, client secrets, API and admin tokens,
// access, refresh and ID tokens, session tokens, authorization codes and PKCE verifiers) is noted;
// at the end, the deployment's logs are searched for each. openid-client and the suite's own calls
// go through fetch; the Okta SDKs' own HTTP clients are not watched.
import { describe, expect, it } from 'vitest';

const seen = new Map<string, string>(); // secret -> what it was

/** Values shorter than this are not searched for (they would match by chance). */
const shortest = 12;

function note(kind: string, value: unknown): void {
  if (typeof value === 'string' && value.length >= shortest && !seen.has(value))
    seen.set(value, kind);
}

const secretParameters = [
  'password',
  'client_secret',
  'client_assertion',
  'code',
  'code_verifier',
  'refresh_token',
  'token',
  'sessionToken',
  'subject_token',
];
const secretFields = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'apiToken',
  'sessionToken',
  'password',
  'value',
];

function noteJson(kind: string, value: unknown, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  for (const [name, field] of Object.entries(value)) {
    if (secretFields.includes(name)) note(`${kind} ${name}`, field);
    noteJson(kind, field, depth + 1);
  }
}

function noteAuthorization(value: string | null): void {
  if (!value) return;
  const [scheme, credentials] = value.split(' ', 2);
  if (!credentials) return;
  if (/^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) note('basic client secret', decodeURIComponent(decoded.slice(colon + 1)));
  } else note(`${scheme} credential`, credentials);
}

function noteBody(body: unknown): void {
  if (typeof body !== 'string' && !(body instanceof URLSearchParams)) return;
  const text = String(body);
  if (text.startsWith('{')) {
    try {
      noteJson('request', JSON.parse(text));
    } catch {}
    return;
  }
  const form = new URLSearchParams(text);
  for (const name of secretParameters) note(`request ${name}`, form.get(name));
}

let installed = false;

/** Starts noting the secrets that pass through fetch in this test file. */
export function watchSecrets(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    try {
      const request = new Request(input, init);
      noteAuthorization(request.headers.get('authorization'));
      noteBody(init?.body);
    } catch {}
    const response = await original(input, init);
    try {
      const location = response.headers.get('location');
      if (location) {
        const url = new URL(location, 'http://x');
        const fragment = new URLSearchParams(url.hash.slice(1));
        for (const params of [url.searchParams, fragment])
          for (const name of ['code', 'access_token', 'id_token'])
            note(`redirect ${name}`, params.get(name));
      }
      if (/json/.test(response.headers.get('content-type') ?? ''))
        noteJson('response', await response.clone().json());
    } catch {}
    return response;
  };
}

/** Searches `logs` (the deployment's whole output, read after the rest of its suite) for them. */
export function defineLogSecretsCheck(name: string, logs: () => Promise<string> | string): void {
  describe(`${name}: no secret in the logs`, () => {
    it('writes none of the secrets its suite sent or was given (passwords, tokens, codes, client secrets)', async () => {
      const text = await logs();
      // The check must have something to look for and somewhere to look.
      expect(seen.size).toBeGreaterThan(50);
      expect(text.length).toBeGreaterThan(0);
      const found = [...seen].filter(([secret]) => text.includes(secret)).map(([, kind]) => kind);
      expect(found).toEqual([]);
    });
  });
}
