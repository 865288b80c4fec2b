import { type CheckContext, checked, type RequestProblem, refuseToClient } from './context.js';

/**
 * For a code: PKCE (RFC 7636) with S256 only, required of public clients. Without a code the
 * parameters are not looked at, and the challenge is not kept.
 */
export function checkPkce(context: CheckContext): RequestProblem | undefined {
  if (!checked(context.responseType, 'responseType').includes('code')) return;
  const { values } = context.parameters;
  const codeChallenge = values.get('code_challenge');
  const challengeMethod = values.get('code_challenge_method');
  if (codeChallenge === undefined && challengeMethod !== undefined)
    return refuseToClient(
      context,
      'invalid_request',
      "'code_challenge_method' needs a 'code_challenge'.",
    );
  if (codeChallenge !== undefined) {
    if (challengeMethod !== 'S256')
      return refuseToClient(
        context,
        'invalid_request',
        "The 'code_challenge_method' parameter must be 'S256'; 'plain' is not supported.",
      );
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))
      return refuseToClient(
        context,
        'invalid_request',
        "The 'code_challenge' parameter must be the base64url SHA-256 of the code verifier.",
      );
    context.codeChallenge = codeChallenge;
  } else if (checked(context.client, 'client').metadata.tokenEndpointAuthMethod === 'none')
    return refuseToClient(
      context,
      'invalid_request',
      "PKCE is required for public clients: send 'code_challenge' and 'code_challenge_method'.",
    );
}
