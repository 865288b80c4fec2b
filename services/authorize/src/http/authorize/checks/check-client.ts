import { type CheckContext, maxLengths, type RequestProblem, refuseOnPage } from './context.js';

/** A client_id that names an active client of the tenant. */
export function checkClient({ parameters, client }: CheckContext): RequestProblem | undefined {
  const clientId = parameters.values.get('client_id');
  if (!clientId)
    return refuseOnPage(400, 'invalid_request', "The 'client_id' parameter is required.");
  if (clientId.length > maxLengths.client_id! || client === undefined || client.status !== 'ACTIVE')
    return refuseOnPage(400, 'invalid_client', 'The client is unknown or not active.');
}
