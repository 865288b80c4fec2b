// The checks of an authorization request (seed 000's parameter table, OIDC Core 3.1.2.1, RFC 7636),
// one function each, run in the order that decides which error a request gets and where it goes.
// Every check that needs neither the user nor the authorization server's policy is here; those come
// after, in AuthorizeFlow.
import type { ClientView } from '@gatehouse/directory';
import type { AuthorizationRequest } from '../../../authorize-request.js';
import type { RawParameters } from '../../parameters.js';
import { checkClient } from './check-client.js';
import { checkIdp } from './check-idp.js';
import { checkMaxAge } from './check-max-age.js';
import { checkNonce } from './check-nonce.js';
import { checkParameterLengths } from './check-parameter-lengths.js';
import { checkPkce } from './check-pkce.js';
import { checkPrompt } from './check-prompt.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResponseMode } from './check-response-mode.js';
import { checkResponseType } from './check-response-type.js';
import { checkResponseTypeAllowed } from './check-response-type-allowed.js';
import { checkScope } from './check-scope.js';
import { checkState } from './check-state.js';
import {
  type AuthorizationCheck,
  type CheckContext,
  checked,
  newCheckContext,
  type RequestProblem,
} from './context.js';
import { rejectRepeatedClientParameters } from './reject-repeated-client-parameters.js';
import { rejectRepeatedParameters } from './reject-repeated-parameters.js';
import { rejectRequestObjects } from './reject-request-objects.js';

export type { RequestProblem } from './context.js';

export const authorizationChecks: readonly AuthorizationCheck[] = [
  // Until these pass, a problem is shown on a page.
  rejectRepeatedClientParameters,
  checkClient,
  checkRedirectUri,
  // From here on, it goes back to the client.
  rejectRepeatedParameters,
  checkParameterLengths,
  rejectRequestObjects,
  checkResponseType,
  checkResponseMode,
  checkResponseTypeAllowed,
  checkScope,
  checkNonce,
  checkState,
  checkPrompt,
  checkMaxAge,
  checkIdp,
  checkPkce,
];

/**
 * Runs the checks in order: the request, or the first problem. `client` is the one client_id
 * names, looked up beforehand; `tenant` is also the only identity provider (`idp`) known.
 */
export function checkAuthorizationRequest(
  parameters: RawParameters,
  found: { tenant: string; serverId: string; client: ClientView | undefined },
): { request: AuthorizationRequest } | { problem: RequestProblem } {
  const context = newCheckContext(parameters, found);
  for (const check of authorizationChecks) {
    const problem = check(context);
    if (problem) return { problem };
  }
  return { request: requestOf(context) };
}

/** The request the checks passed, as the transaction keeps it. */
function requestOf(context: CheckContext): AuthorizationRequest {
  const { state, nonce, maxAge, codeChallenge } = context;
  const loginHint = context.parameters.values.get('login_hint');
  return {
    tenant: context.tenant,
    serverId: context.serverId,
    clientId: checked(context.client, 'client').id,
    redirectUri: checked(context.redirectUri, 'redirectUri'),
    responseType: checked(context.responseType, 'responseType'),
    responseMode: checked(context.responseMode, 'responseMode'),
    scopes: checked(context.scopes, 'scopes'),
    ...(state !== undefined ? { state } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
    prompt: checked(context.prompt, 'prompt'),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(loginHint !== undefined ? { loginHint } : {}),
    ...(codeChallenge !== undefined ? { codeChallenge } : {}),
  };
}
