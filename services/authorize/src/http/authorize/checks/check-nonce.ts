import { type CheckContext, checked, type RequestProblem, refuseToClient } from './context.js';

/** A nonce whenever an ID token comes from the authorization endpoint (OIDC Core 3.2.2.1, 3.3.2.11). */
export function checkNonce(context: CheckContext): RequestProblem | undefined {
  const nonce = context.parameters.values.get('nonce');
  if (checked(context.responseType, 'responseType').includes('id_token') && nonce === undefined)
    return refuseToClient(
      context,
      'invalid_request',
      "The 'nonce' parameter is required when an ID token comes from the authorization endpoint.",
    );
  context.nonce = nonce;
}
