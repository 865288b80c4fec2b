// Server-rendered pages: sign-in, consent, errors, and the two response modes that are pages
// (form_post, okta_post_message). Everything from a request is escaped; each page sends a Content
// Security Policy with a fresh nonce for its one style sheet and, where needed, its one script.
import { randomBytes } from 'node:crypto';

export interface Page {
  status: number;
  html: string;
  /** The Content-Security-Policy header. */
  csp: string;
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export const escapeHtml = (value: string) => value.replace(/[&<>"'`]/g, (c) => entities[c]!);

const style = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;margin:0;color:#1d1d21}
main{max-width:400px;margin:10vh auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);padding:32px}
h1{font-size:1.35rem;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #8c8c96;border-radius:4px;font-size:1rem}
button{margin-top:1.5rem;padding:.65rem 1.2rem;font-size:1rem;border-radius:4px;border:1px solid #1662dd;background:#1662dd;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1662dd;margin-left:.5rem}
.error{background:#fdeaea;border:1px solid #e34843;border-radius:4px;padding:.75rem;margin:0 0 1rem}
.muted{color:#6e6e78;font-size:.9rem}
ul{padding-left:1.2rem} li{margin:.4rem 0}
code{background:#f0f0f3;padding:0 .25rem;border-radius:3px}`;

interface Layout {
  title: string;
  body: string;
  status?: number;
  /** A script to run (form_post, okta_post_message), allowed by nonce. */
  script?: string;
  /** Where this page's forms may go: 'self' unless a response mode posts elsewhere. */
  formAction?: string;
  /** Who may frame the page; 'none' but for okta_post_message. */
  frameAncestors?: string;
}

export function page(layout: Layout): Page {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(layout.title)}</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<main>
${layout.body}
</main>${layout.script ? `\n<script nonce="${nonce}">${layout.script}</script>` : ''}
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    ...(layout.script ? [`script-src 'nonce-${nonce}'`] : []),
    `form-action ${layout.formAction ?? "'self'"}`,
    `frame-ancestors ${layout.frameAncestors ?? "'none'"}`,
    "base-uri 'none'",
  ].join('; ');
  return { status: layout.status ?? 200, html, csp };
}

export function errorPage(status: number, error: string, description: string): Page {
  return page({
    status,
    title: 'Sign-in error',
    body: `<h1>Something is wrong with this sign-in request</h1>
<p class="error" role="alert">${escapeHtml(description)}</p>
<p class="muted">Error code: <code>${escapeHtml(error)}</code>. Go back to the application and start again; if it happens again, tell the application's owner.</p>`,
  });
}

/**
 * The CSP source of where a form's answer may redirect to: a sign-in or consent form is answered
 * with a redirect to the client, and browsers hold that redirect to the page's form-action.
 */
export function formTargets(redirectUri: string): string {
  const url = new URL(redirectUri);
  return `'self' ${url.origin === 'null' ? url.protocol : url.origin}`;
}

/** Hidden inputs, one a line. */
export const hiddenFields = (fields: Record<string, string> = {}) =>
  Object.entries(fields)
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">\n`,
    )
    .join('');

export function loginPage(input: {
  action: string;
  /** formTargets(the request's redirect_uri) */
  formAction: string;
  /** The pending authorization request the sign-in continues; none on the device page's. */
  transactionId?: string;
  csrf: string;
  clientName: string;
  username?: string;
  message?: string;
  status?: number;
  /** More hidden fields the form carries back (the device page's step and user code). */
  fields?: Record<string, string>;
}): Page {
  return page({
    status: input.status ?? 200,
    title: 'Sign in',
    formAction: input.formAction,
    body: `<h1>Sign in</h1>
<p class="muted">to continue to ${escapeHtml(input.clientName)}</p>
${input.message ? `<p class="error" role="alert">${escapeHtml(input.message)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">
${input.transactionId !== undefined ? `<input type="hidden" name="tx" value="${escapeHtml(input.transactionId)}">\n` : ''}<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
${hiddenFields(input.fields)}<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(input.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>`,
  });
}

/** The scopes a consent page asks for, one list item each: the name shown, and its description. */
export function scopeItems(
  scopes: readonly { name: string; displayName: string; description: string }[],
): string {
  return scopes
    .map(
      (scope) =>
        `<li><strong>${escapeHtml(scope.displayName || scope.name)}</strong>${scope.description ? ` <span class="muted">${escapeHtml(scope.description)}</span>` : ''}</li>`,
    )
    .join('\n');
}

export function consentPage(input: {
  action: string;
  /** formTargets(the request's redirect_uri) */
  formAction: string;
  transactionId: string;
  csrf: string;
  clientName: string;
  userLogin: string;
  scopes: { name: string; displayName: string; description: string }[];
}): Page {
  const items = scopeItems(input.scopes);
  return page({
    title: 'Allow access',
    formAction: input.formAction,
    body: `<h1>${escapeHtml(input.clientName)} would like to:</h1>
<ul>
${items}
</ul>
<p class="muted">Signed in as ${escapeHtml(input.userLogin)}.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny" class="secondary">Don't allow</button>
</form>`,
  });
}

export function signedOutPage(): Page {
  return page({
    title: 'Signed out',
    body: '<h1>You are signed out</h1>\n<p class="muted">You can close this window.</p>',
  });
}

/** form_post (OAuth 2.0 Form Post Response Mode): a form that submits itself to the client. */
export function formPostPage(redirectUri: string, params: Record<string, string>): Page {
  const fields = Object.entries(params)
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('\n');
  return page({
    title: 'Submit this form',
    body: `<form method="post" action="${escapeHtml(redirectUri)}">
${fields}
<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript>
</form>`,
    script: 'document.forms[0].submit();',
    formAction: new URL(redirectUri).origin,
  });
}

/**
 * okta_post_message: a page that posts the response to the window that opened it (a popup) or
 * framed it (a hidden iframe), and only to the client's origin.
 */
export function postMessagePage(redirectUri: string, params: Record<string, string>): Page {
  const origin = new URL(redirectUri).origin;
  // JSON inside a script: escape what could end the script element or start markup.
  const json = (value: unknown) =>
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  return page({
    title: 'Signing in',
    body: '<p class="muted">Signing in…</p>',
    script: `(function(){var target=window.opener||window.parent;if(target&&target!==window){target.postMessage(${json(params)},${json(origin)});}})();`,
    frameAncestors: origin,
  });
}
