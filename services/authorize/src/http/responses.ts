// How the browser-facing endpoints answer: a page, a redirect, or an authorization response in the
// request's response mode.
import { orgBaseUrl, type TenancyConfig } from '@gatehouse/directory';
import type { Context } from 'koa';
import type { ResponseTarget } from '../authorize-flow.js';
import { errorPage, formPostPage, type Page, postMessagePage } from '../pages/html.js';

/** The path of a tenant's org base URL, without its trailing slash ('' at the root). */
export const orgPath = (tenancy: TenancyConfig, tenant: string) =>
  new URL(orgBaseUrl(tenancy, tenant)).pathname.replace(/\/$/, '');

export const sendPage = (ctx: Context, page: Page) => {
  ctx.status = page.status;
  ctx.set('Content-Security-Policy', page.csp);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = page.html;
};

export const redirect = (ctx: Context, location: string) => {
  // 303 after a POST, so the browser follows with GET.
  ctx.status = ctx.method === 'POST' ? 303 : 302;
  ctx.set('Location', location);
  ctx.body = '';
};

/** An authorization response (or error), with the state and `iss` (RFC 9207), in its mode. */
export const deliver = (ctx: Context, target: ResponseTarget, params: Record<string, string>) => {
  const all: Record<string, string> = { ...params };
  if (target.state !== undefined) all.state = target.state;
  all.iss = target.issuer;
  switch (target.responseMode) {
    case 'query': {
      const url = new URL(target.redirectUri);
      for (const [name, value] of Object.entries(all)) url.searchParams.append(name, value);
      return redirect(ctx, url.href);
    }
    case 'fragment':
      return redirect(
        ctx,
        `${target.redirectUri.split('#')[0]}#${new URLSearchParams(all).toString()}`,
      );
    case 'form_post':
      return sendPage(ctx, formPostPage(target.redirectUri, all));
    case 'okta_post_message':
      return sendPage(ctx, postMessagePage(target.redirectUri, all));
  }
};

export const showError = (ctx: Context, status: number, error: string, description: string) =>
  sendPage(ctx, errorPage(status, error, description));
