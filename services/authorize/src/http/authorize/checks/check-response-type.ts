import { canonicalResponseType } from '../../../authorize-request.js';
import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** A response_type of seed 000, its words in any order; kept in the canonical one. */
export function checkResponseType(context: CheckContext): RequestProblem | undefined {
  const { values } = context.parameters;
  if (!values.has('response_type'))
    return refuseToClient(context, 'invalid_request', "The 'response_type' parameter is required.");
  const responseType = canonicalResponseType(values.get('response_type') ?? '');
  if (!responseType)
    return refuseToClient(
      context,
      'unsupported_response_type',
      `The response type '${values.get('response_type')}' is not supported.`,
    );
  context.responseType = responseType;
}
