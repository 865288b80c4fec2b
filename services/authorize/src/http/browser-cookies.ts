// The browser's two cookies, under its tenant's org path: its session, and the id that binds a
// transaction, a form or a logout question to the browser that started it (kept as its SHA-256).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenancyConfig } from '@gatehouse/directory';
import type { Context } from 'koa';
import { newSecret } from '../flow-state.js';
import { orgPath } from './responses.js';

export const sessionCookie = 'gh_session';
export const browserCookie = 'gh_browser';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Compares two secrets (a form's CSRF token and the one it was given) in constant time. */
export const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(sha256(a));
  const y = Buffer.from(sha256(b));
  return timingSafeEqual(x, y);
};

export class BrowserCookies {
  private readonly secure: boolean;

  constructor(private readonly tenancy: TenancyConfig) {
    this.secure = tenancy.mode === 'host' || tenancy.publicUrl.protocol === 'https:';
  }

  set(ctx: Context, name: string, value: string, maxAgeSeconds: number): void {
    const path = orgPath(this.tenancy, ctx.state.tenant) || '/';
    ctx.append(
      'Set-Cookie',
      `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`,
    );
  }

  /** The SHA-256 of the browser's id; a browser without one (or with a malformed one) gets one. */
  browserOf(ctx: Context): string {
    let id = ctx.cookies.get(browserCookie);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
      id = newSecret();
      this.set(ctx, browserCookie, id, 365 * 24 * 3600);
    }
    return sha256(id);
  }
}
