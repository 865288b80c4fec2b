// The device verification page's steps (RFC 8628 section 3.3): the user code to enter, the
// confirmation naming the application and the scopes, and the end. Same layout, escaping and CSP as
// the sign-in and consent pages; every form carries the page's CSRF token.
import { escapeHtml, hiddenFields, type Page, page, scopeItems } from './html.js';

export function userCodePage(input: {
  action: string;
  csrf: string;
  userCode?: string;
  userLogin: string;
  message?: string;
  status?: number;
}): Page {
  return page({
    status: input.status ?? 200,
    title: 'Activate a device',
    body: `<h1>Activate your device</h1>
<p class="muted">Enter the code your device shows.</p>
${input.message ? `<p class="error" role="alert">${escapeHtml(input.message)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">
${hiddenFields({ csrf: input.csrf, step: 'code' })}<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus placeholder="XXXX-XXXX" value="${escapeHtml(input.userCode ?? '')}">
<button type="submit" id="next">Next</button>
</form>
<p class="muted">Signed in as ${escapeHtml(input.userLogin)}.</p>`,
  });
}

export function deviceConsentPage(input: {
  action: string;
  csrf: string;
  userCode: string;
  clientName: string;
  userLogin: string;
  scopes: { name: string; displayName: string; description: string }[];
}): Page {
  const items = scopeItems(input.scopes);
  return page({
    title: 'Allow the device',
    body: `<h1>${escapeHtml(input.clientName)} on your device would like to:</h1>
<ul>
${items}
</ul>
<p class="muted">Code <code>${escapeHtml(input.userCode)}</code>. Signed in as ${escapeHtml(input.userLogin)}. Allow only a device you are using now.</p>
<form method="post" action="${escapeHtml(input.action)}">
${hiddenFields({ csrf: input.csrf, step: 'decision', user_code: input.userCode })}<button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny" class="secondary">Don't allow</button>
</form>`,
  });
}

export function deviceDonePage(allowed: boolean, clientName: string): Page {
  return page({
    title: allowed ? 'Device activated' : 'Device not allowed',
    body: allowed
      ? `<h1 id="activated">Device activated</h1>\n<p class="muted">${escapeHtml(clientName)} on your device can continue now. You can close this window.</p>`
      : `<h1 id="denied">Device not allowed</h1>\n<p class="muted">${escapeHtml(clientName)} on your device was not given access. You can close this window.</p>`,
  });
}
