import type { PromptValue } from '../../../authorize-request.js';
import { type CheckContext, type RequestProblem, refuseToClient } from './context.js';

/** A prompt of none alone, or of login and consent, each at most once. */
export function checkPrompt(context: CheckContext): RequestProblem | undefined {
  const prompt = (context.parameters.values.get('prompt') ?? '')
    .split(' ')
    .filter((value) => value !== '');
  if (
    prompt.some((value) => !['none', 'login', 'consent'].includes(value)) ||
    new Set(prompt).size !== prompt.length ||
    (prompt.includes('none') && prompt.length > 1)
  )
    return refuseToClient(
      context,
      'invalid_request',
      "The 'prompt' parameter must be 'none', or 'login' and/or 'consent'.",
    );
  context.prompt = prompt as PromptValue[];
}
