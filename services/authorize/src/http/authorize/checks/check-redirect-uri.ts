import { type CheckContext, checked, type RequestProblem, refuseOnPage } from './context.js';

/** A redirect_uri registered for the client; from here on a problem goes back to it. */
export function checkRedirectUri(context: CheckContext): RequestProblem | undefined {
  const redirectUri = context.parameters.values.get('redirect_uri');
  if (!redirectUri)
    return refuseOnPage(400, 'invalid_request', "The 'redirect_uri' parameter is required.");
  // Exact match, byte for byte (OAuth 2.0 Security BCP): no prefix, no normalisation.
  if (!checked(context.client, 'client').metadata.redirectUris.includes(redirectUri))
    return refuseOnPage(
      400,
      'invalid_request',
      "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
    );
  context.redirectUri = redirectUri;
}
