// An authorization request as the flow keeps it once its checks have passed (they are in
// http/authorize/checks), and the words of its parameters: response types, modes and prompts.
import { responseTypes } from '@gatehouse/directory';

export const responseModes = ['query', 'fragment', 'form_post', 'okta_post_message'] as const;
export type ResponseMode = (typeof responseModes)[number];
export type PromptValue = 'none' | 'login' | 'consent';

/** A request that passed every check that needs no user; what the transaction keeps. */
export interface AuthorizationRequest {
  tenant: string;
  /** "org" for the org authorization server. */
  serverId: string;
  clientId: string;
  redirectUri: string;
  /** The response type's words, in the canonical order code, id_token, token. */
  responseType: string[];
  responseMode: ResponseMode;
  scopes: string[];
  state?: string;
  nonce?: string;
  prompt: PromptValue[];
  /** seconds */
  maxAge?: number;
  loginHint?: string;
  codeChallenge?: string;
}

const responseWords = ['code', 'id_token', 'token'] as const;
/** The response types of seed 000, each as its canonical words. */
const knownResponseTypes = new Set<string>(responseTypes);

export const canonicalResponseType = (value: string): string[] | undefined => {
  const words = value.split(' ');
  if (words.some((word) => !responseWords.includes(word as never))) return undefined;
  if (new Set(words).size !== words.length) return undefined;
  const canonical = responseWords.filter((word) => words.includes(word));
  return knownResponseTypes.has(canonical.join(' ')) ? canonical : undefined;
};

/** Code alone answers in the query; anything with a token answers in the fragment (seed 000). */
export const defaultResponseMode = (responseType: readonly string[]): ResponseMode =>
  responseType.length === 1 && responseType[0] === 'code' ? 'query' : 'fragment';
