import { type CheckContext, maxLengths, type RequestProblem, refuseToClient } from './context.js';

/**
 * The state, kept to go back with the response. Its length is that of checkParameterLengths, which
 * refuses a longer one first.
 */
export function checkState(context: CheckContext): RequestProblem | undefined {
  const state = context.parameters.values.get('state');
  if (state !== undefined && state.length > maxLengths.state!)
    return refuseToClient(context, 'invalid_request', "The 'state' parameter is too long.");
  context.state = state;
}
