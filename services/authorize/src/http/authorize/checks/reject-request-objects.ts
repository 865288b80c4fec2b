import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** No request object, by value or by reference (OIDC Core 6): Gatehouse supports neither. */
export function rejectRequestObjects(context: CheckContext): RequestProblem | undefined {
  const { values } = context.parameters;
  if (values.has('request'))
    return refuseToClient(
      context,
      'request_not_supported',
      "The 'request' parameter is not supported.",
    );
  if (values.has('request_uri'))
    return refuseToClient(
      context,
      'request_uri_not_supported',
      "The 'request_uri' parameter is not supported.",
    );
}
