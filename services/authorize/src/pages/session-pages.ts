// The pages that guard a browser's session against requests the user did not make (issue 16): the
// question before a sessionToken of another user replaces the session, and the question before a
// logout whose id_token_hint is of another user. Plain forms, no script; the CSRF token and the
// browser cookie bind each answer to the browser that was asked.
import { escapeHtml, type Page, page } from './html.js';

export function switchUserPage(input: {
  action: string;
  /** formTargets(the request's redirect_uri): the answer redirects there. */
  formAction: string;
  transactionId: string;
  csrf: string;
  clientName: string;
  /** The login of the session's user; undefined when that session has ended since. */
  currentLogin: string | undefined;
  nextLogin: string;
}): Page {
  const current = input.currentLogin
    ? `You are signed in as <strong>${escapeHtml(input.currentLogin)}</strong>.`
    : 'You are not signed in any more.';
  return page({
    title: 'Switch user?',
    formAction: input.formAction,
    body: `<h1>Continue as ${escapeHtml(input.nextLogin)}?</h1>
<p>${current}</p>
<p class="muted">${escapeHtml(input.clientName)} asks to sign this browser in as <strong>${escapeHtml(input.nextLogin)}</strong>. Continue only if you started this sign-in yourself: the other account would then be the one signed in here.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<button type="submit" name="decision" value="continue" id="continue">Continue as ${escapeHtml(input.nextLogin)}</button>
<button type="submit" name="decision" value="stay" id="stay" class="secondary">Stay signed in${input.currentLogin ? ` as ${escapeHtml(input.currentLogin)}` : ''}</button>
</form>`,
  });
}

export function confirmSignOutPage(input: {
  action: string;
  /** formTargets(post_logout_redirect_uri) when there is one: the yes redirects there. */
  formAction?: string;
  requestId: string;
  csrf: string;
  clientName: string;
  login: string;
}): Page {
  return page({
    title: 'Sign out?',
    ...(input.formAction ? { formAction: input.formAction } : {}),
    body: `<h1>Sign out?</h1>
<p>You are signed in as <strong>${escapeHtml(input.login)}</strong>.</p>
<p class="muted">${escapeHtml(input.clientName)} asks to sign this browser out, on behalf of another account. Sign out only if you meant to.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="logout_request" value="${escapeHtml(input.requestId)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<button type="submit" name="decision" value="sign-out" id="sign-out">Sign out</button>
<button type="submit" name="decision" value="stay" id="stay" class="secondary">Stay signed in</button>
</form>`,
  });
}

export function stillSignedInPage(login: string): Page {
  return page({
    title: 'Still signed in',
    body: `<h1>You are still signed in</h1>\n<p class="muted">${login ? `As ${escapeHtml(login)}. ` : ''}You can close this window.</p>`,
  });
}
