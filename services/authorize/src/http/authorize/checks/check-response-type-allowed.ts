import { canonicalResponseType } from '../../../authorize-request.js';
import { type CheckContext, checked, type RequestProblem, refuseToClient } from './context.js';

/**
 * A response type the client registered, with the grant types it stands for: implicit for any
 * token from the authorization endpoint, authorization_code for a code.
 */
export function checkResponseTypeAllowed(context: CheckContext): RequestProblem | undefined {
  const { metadata } = checked(context.client, 'client');
  const responseType = checked(context.responseType, 'responseType');
  const registered = new Set(
    metadata.responseTypes.map((type) => canonicalResponseType(type)?.join(' ')),
  );
  const needsImplicit = responseType.some((word) => word !== 'code');
  const needsCode = responseType.includes('code');
  if (
    !registered.has(responseType.join(' ')) ||
    (needsImplicit && !metadata.grantTypes.includes('implicit')) ||
    (needsCode && !metadata.grantTypes.includes('authorization_code'))
  )
    return refuseToClient(
      context,
      'unauthorized_client',
      `The client is not allowed the response type '${responseType.join(' ')}'.`,
    );
}
