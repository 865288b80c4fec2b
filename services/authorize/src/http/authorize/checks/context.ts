// What the checks of an authorization request share: its parameters, what the checks before found,
// and where a refusal goes. A check returns the problem that stops the request, or nothing; until the
// client and its redirect URI are known good a problem is a page, never sent anywhere (RFC 6749
// section 4.1.2.1); after, it goes back to the client in the response mode the request asked for.
import type { ClientView } from '@gatehouse/directory';
import {
  canonicalResponseType,
  defaultResponseMode,
  type PromptValue,
  type ResponseMode,
  responseModes,
} from '../../../authorize-request.js';
import type { RawParameters } from '../../parameters.js';

/** Where a problem goes: a page (nothing known to be safe to redirect to), or back to the client. */
export type RequestProblem =
  | { to: 'page'; status: number; error: string; description: string }
  | {
      to: 'client';
      error: string;
      description: string;
      redirectUri: string;
      responseMode: ResponseMode;
      state?: string;
    };

export interface CheckContext {
  readonly tenant: string;
  /** "org" for the org authorization server. */
  readonly serverId: string;
  readonly parameters: RawParameters;
  /** The client `client_id` names, as the directory has it; undefined when it has none. */
  readonly client: ClientView | undefined;
  /** How a refusal goes back once the redirect URI is known (see refusalOf). */
  readonly refusal: { responseMode: ResponseMode; state?: string };
  // What the checks found, each set by the check named beside it.
  redirectUri?: string; // checkRedirectUri
  responseType?: string[]; // checkResponseType
  responseMode?: ResponseMode; // checkResponseMode
  scopes?: string[]; // checkScope
  nonce?: string; // checkNonce
  state?: string; // checkState
  prompt?: PromptValue[]; // checkPrompt
  maxAge?: number; // checkMaxAge
  codeChallenge?: string; // checkPkce
}

export type AuthorizationCheck = (context: CheckContext) => RequestProblem | undefined;

/** The longest value of each parameter. */
export const maxLengths: Record<string, number> = {
  client_id: 100,
  redirect_uri: 2048,
  response_type: 40,
  response_mode: 40,
  scope: 1024,
  state: 2048,
  nonce: 512,
  prompt: 40,
  max_age: 12,
  login_hint: 256,
  code_challenge: 128,
  code_challenge_method: 10,
  idp: 100,
  sessionToken: 100,
  display: 20,
};

export function newCheckContext(
  parameters: RawParameters,
  found: { tenant: string; serverId: string; client: ClientView | undefined },
): CheckContext {
  return { ...found, parameters, refusal: refusalOf(parameters.values) };
}

/**
 * Where a refusal goes back, decided from the parameters as sent, before any of them is checked: in
 * the response mode asked for when it is one, or else the response type's default (query when the
 * response type is not one either); with the state when it is not too long.
 */
function refusalOf(values: Map<string, string>): CheckContext['refusal'] {
  const state = values.get('state');
  const stateOk = state === undefined || state.length <= maxLengths.state!;
  const responseType = canonicalResponseType(values.get('response_type') ?? '');
  const requestedMode = values.get('response_mode');
  const fallbackMode = responseType ? defaultResponseMode(responseType) : 'query';
  const modeKnown = requestedMode === undefined || responseModes.includes(requestedMode as never);
  const responseMode: ResponseMode = modeKnown
    ? ((requestedMode as ResponseMode | undefined) ?? fallbackMode)
    : fallbackMode;
  return { responseMode, ...(state !== undefined && stateOk ? { state } : {}) };
}

/** A problem shown on a page: the client or its redirect URI is in doubt. */
export const refuseOnPage = (
  status: number,
  error: string,
  description: string,
): RequestProblem => ({
  to: 'page',
  status,
  error,
  description,
});

/** A problem sent back to the client's redirect URI. */
export function refuseToClient(
  context: CheckContext,
  error: string,
  description: string,
  responseMode: ResponseMode = context.refusal.responseMode,
): RequestProblem {
  const { state } = context.refusal;
  return {
    to: 'client',
    error,
    description,
    redirectUri: checked(context.redirectUri, 'redirectUri'),
    responseMode,
    ...(state !== undefined ? { state } : {}),
  };
}

/** What a check before found; a check that runs before it is a mistake in the order of the list. */
export function checked<T>(value: T | undefined, name: string): T {
  if (value === undefined)
    throw new Error(`The authorization checks ran out of order: ${name} is not checked yet.`);
  return value;
}
