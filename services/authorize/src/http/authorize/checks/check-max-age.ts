import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** A max_age of whole seconds. */
export function checkMaxAge(context: CheckContext): RequestProblem | undefined {
  const maxAge = context.parameters.values.get('max_age');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge))
    return refuseToClient(
      context,
      'invalid_request',
      "The 'max_age' parameter must be a number of seconds.",
    );
  if (maxAge !== undefined) context.maxAge = Number(maxAge);
}
