import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** Every parameter at most once. */
export function rejectRepeatedParameters(context: CheckContext): RequestProblem | undefined {
  const [repeated] = context.parameters.repeated;
  if (repeated !== undefined)
    return refuseToClient(
      context,
      'invalid_request',
      `The '${repeated}' parameter was sent more than once.`,
    );
}
