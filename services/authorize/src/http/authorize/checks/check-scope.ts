import { type CheckContext, checked, type RequestProblem, refuseToClient } from './context.js';

/** Scope tokens as RFC 6749 section 3.3 allows them: printable ASCII but space, `"` and `\`. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * A scope of well-formed tokens, each kept once, with openid when an ID token is asked for. Which
 * scopes are granted is the server's policy, decided once the user is known.
 */
export function checkScope(context: CheckContext): RequestProblem | undefined {
  const scopeParameter = context.parameters.values.get('scope');
  if (!scopeParameter)
    return refuseToClient(context, 'invalid_scope', "The 'scope' parameter is required.");
  const scopeList = scopeParameter.split(' ');
  if (scopeList.some((scope) => !scopeToken.test(scope)))
    return refuseToClient(
      context,
      'invalid_scope',
      'The requested scope is invalid, unknown, or malformed.',
    );
  const responseType = checked(context.responseType, 'responseType');
  let scopes = [...new Set(scopeList)];
  // Seed 001: offline_access needs a response type with code; without one it is ignored.
  if (!responseType.includes('code')) scopes = scopes.filter((scope) => scope !== 'offline_access');
  if (responseType.includes('id_token') && !scopes.includes('openid'))
    return refuseToClient(context, 'invalid_scope', "An ID token needs the 'openid' scope.");
  context.scopes = scopes;
}
