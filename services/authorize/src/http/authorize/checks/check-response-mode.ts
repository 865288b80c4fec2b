import {
  defaultResponseMode,
  type ResponseMode,
  responseModes,
} from '../../../authorize-request.js';
import { type CheckContext, checked, type RequestProblem, refuseToClient } from './context.js';

/** A response_mode Gatehouse answers in, or the response type's default; never tokens in a query. */
export function checkResponseMode(context: CheckContext): RequestProblem | undefined {
  const requested = context.parameters.values.get('response_mode');
  if (requested !== undefined && !responseModes.includes(requested as never))
    return refuseToClient(
      context,
      'unsupported_response_mode',
      `The response mode '${requested}' is not supported.`,
    );
  const responseType = checked(context.responseType, 'responseType');
  const responseMode = (requested as ResponseMode | undefined) ?? defaultResponseMode(responseType);
  if (responseMode === 'query' && responseType.some((word) => word !== 'code'))
    // Not in the query it asked for either: the refusal goes in the fragment.
    return refuseToClient(
      context,
      'unsupported_response_mode',
      "The 'query' response mode cannot be used with a response type that returns tokens.",
      'fragment',
    );
  context.responseMode = responseMode;
}
