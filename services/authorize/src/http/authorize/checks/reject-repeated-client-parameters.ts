import { type CheckContext, type RequestProblem, refuseOnPage } from './context.js';

/** client_id and redirect_uri once each: with two, neither the client nor the way back is known. */
export function rejectRepeatedClientParameters({
  parameters,
}: CheckContext): RequestProblem | undefined {
  for (const name of ['client_id', 'redirect_uri'])
    if (parameters.repeated.has(name))
      return refuseOnPage(
        400,
        'invalid_request',
        `The '${name}' parameter was sent more than once.`,
      );
}
