import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** An idp, if any, that is the tenant: the only identity provider Gatehouse knows. */
export function checkIdp(context: CheckContext): RequestProblem | undefined {
  const idp = context.parameters.values.get('idp');
  if (idp !== undefined && idp !== context.tenant)
    return refuseToClient(
      context,
      'invalid_request',
      `The identity provider '${idp}' is not known.`,
    );
}
