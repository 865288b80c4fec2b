// The browser harness end to end: Chromium opens a page served on 127.0.0.1, fills its form and
// posts it, as a login test will.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchChromium, saveScreenshot } from './browser.js';

const signInPage = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Sign in</title></head>
  <body>
    <h1>Sign in</h1>
    <form method="post" action="/sign-in">
      <label>Username <input name="username" autocomplete="username"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password"></label>
      <button type="submit">Sign in</button>
    </form>
  </body>
</html>`;

let server: Server;
let origin: string;
let browser: Browser | undefined;
const posted: URLSearchParams[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(signInPage);
      return;
    }
    if (req.method === 'POST' && req.url === '/sign-in') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        posted.push(form);
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<!doctype html><h1>Signed in as ${form.get('username') === 'ada' ? 'ada' : '?'}</h1>`,
          );
      });
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('launchChromium', () => {
  it('opens a page, fills its form and posts it', async () => {
    const page = await browser!.newPage();
    await page.goto(`${origin}/`);
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('correct horse');
    await saveScreenshot(page, 'testkit-browser-form-filled');

    await Promise.all([page.waitForURL(`${origin}/sign-in`), page.getByRole('button').click()]);

    expect(posted.map((form) => Object.fromEntries(form))).toEqual([
      { username: 'ada', password: 'correct horse' },
    ]);
    expect(await page.locator('h1').textContent()).toBe('Signed in as ada');
    await saveScreenshot(page, 'testkit-browser-form-posted');
  });
});
