import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oktaErrors, readJsonObject, requestId } from './koa.js';
import { oauthErrors, readForm } from './oauth.js';
import { OAuthError } from './oauth-errors.js';
import { OktaApiError } from './okta-errors.js';

const logged: unknown[] = [];

/** An error body of either family, as the tests read it. */
interface ErrorBody {
  errorCode?: string;
  errorId?: string;
  errorCauses: { errorSummary: string }[];
  error?: string;
  error_description?: string;
}
const errorBody = async (response: Response) => (await response.json()) as ErrorBody;
let base: string;
let close: () => void;

beforeAll(async () => {
  const app = new Koa();
  app.use(requestId());
  app.use(oktaErrors((entry) => logged.push(entry)));
  app.use(async (ctx) => {
    if (ctx.path === '/echo') ctx.body = await readJsonObject(ctx, 100);
    else if (ctx.path === '/invalid')
      throw OktaApiError.validation([
        { field: 'profile.login', message: 'must be an email' },
        { field: 'name', message: 'required' },
      ]);
    else if (ctx.path === '/boom') throw new Error('database password is hunter2');
    else if (ctx.path === '/busy') throw OktaApiError.unavailable('try again', 2);
    else if (ctx.path === '/oauth')
      throw new OAuthError(400, 'invalid_redirect_uri', "'x' must use https");
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

const post = (path: string, body: string, type = 'application/json') =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

describe('management API edge', () => {
  it("writes Okta's error shape, naming each field at fault", async () => {
    const response = await fetch(`${base}/invalid`);
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({
      errorCode: 'E0000001',
      errorSummary: 'Api validation failed: profile.login',
      errorLink: 'E0000001',
      errorId: expect.stringMatching(/^oae[A-Za-z0-9]{22}$/),
      errorCauses: [
        { errorSummary: 'profile.login: must be an email' },
        { errorSummary: 'name: required' },
      ],
    });
  });

  it('hides an unexpected error behind E0000009 and logs it with the same error id', async () => {
    const response = await fetch(`${base}/boom`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('at ');
    const body = JSON.parse(text);
    expect(body.errorCode).toBe('E0000009');
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'error', errorId: body.errorId }),
    );
  });

  it('answers an unknown path with E0000008, and carries extra headers', async () => {
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect((await errorBody(missing)).errorCode).toBe('E0000008');
    const busy = await fetch(`${base}/busy`);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('2');
  });

  it('writes OAuth errors as {error, error_description}', async () => {
    const response = await fetch(`${base}/oauth`);
    expect(response.status).toBe(400);
    expect(await errorBody(response)).toEqual({
      error: 'invalid_redirect_uri',
      error_description: "'x' must use https",
    });
  });

  it('reads JSON objects and refuses malformed, non-object, oversized and non-JSON bodies', async () => {
    expect(await (await post('/echo', '{"a":1}')).json()).toEqual({ a: 1 });
    expect(
      await (await post('/echo', '{"a":1}', 'application/json; charset=utf-8')).json(),
    ).toEqual({ a: 1 });
    for (const body of ['{"a":', '[1,2]', 'null', '"text"']) {
      const response = await post('/echo', body);
      expect(response.status).toBe(400);
      expect((await errorBody(response)).errorCode).toBe('E0000003');
    }
    const large = await post('/echo', JSON.stringify({ a: 'x'.repeat(200) }));
    expect(large.status).toBe(413);
    expect((await errorBody(large)).errorCauses[0]?.errorSummary).toContain('at most 100 bytes');
    const form = await post('/echo', 'a=1', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
  });

  it('keeps a sane X-Request-Id from the caller and replaces anything else', async () => {
    const kept = await fetch(`${base}/nowhere`, { headers: { 'x-request-id': 'req-123' } });
    expect(kept.headers.get('x-request-id')).toBe('req-123');
    const replaced = await fetch(`${base}/nowhere`, {
      headers: { 'x-request-id': 'bad id\twith tabs' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('OAuth form bodies', () => {
  let formBase: string;
  let stop: () => void;
  beforeAll(async () => {
    const app = new Koa();
    app.use(oauthErrors(() => {}));
    app.use(async (ctx) => {
      ctx.body = Object.fromEntries(await readForm(ctx, 64));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    formBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stop = () => server.close();
  });
  afterAll(() => stop());
  const postForm = (body: RequestInit['body'], headers: Record<string, string> = {}) =>
    fetch(formBase, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);

  it('reads a form, in one chunk or several, and refuses repeats and oversized bodies', async () => {
    expect(await (await postForm('a=1&b=%C3%A9&c=')).json()).toEqual({ a: '1', b: 'é' });
    const chunked = new ReadableStream({
      start(controller) {
        for (const part of ['grant_', 'type=code', '&x=', '%E2%82', '%AC'])
          controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    expect(await (await postForm(chunked)).json()).toEqual({ grant_type: 'code', x: '€' });
    const repeated = await postForm('a=1&a=2');
    expect(repeated.status).toBe(400);
    expect((await errorBody(repeated)).error).toBe('invalid_request');
    // Declared too large, and too large without a declared length (chunked): 413 either way.
    expect((await postForm('a='.padEnd(100, 'x'))).status).toBe(413);
    const endless = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(20)));
        controller.close();
      },
    });
    const tooLong = await postForm(endless);
    expect(tooLong.status).toBe(413);
    expect((await errorBody(tooLong)).error_description).toContain('at most 64 bytes');
    // And the server goes on answering.
    expect(await (await postForm('ok=1')).json()).toEqual({ ok: '1' });
  });
});
