import { type CheckContext, maxLengths, type RequestProblem, refuseToClient } from './context.js';

/** Every parameter within its length (maxLengths), in the order of that table. */
export function checkParameterLengths(context: CheckContext): RequestProblem | undefined {
  for (const [name, max] of Object.entries(maxLengths)) {
    const value = context.parameters.values.get(name);
    if (value !== undefined && value.length > max)
      return refuseToClient(
        context,
        name === 'scope' ? 'invalid_scope' : 'invalid_request',
        `The '${name}' parameter must be at most ${max} characters.`,
      );
  }
}
