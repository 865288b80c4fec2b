// The OpenID Connect scopes: every authorization server knows them, and any rule that matches a
// request grants them without listing them (seed 001, "Subtle behavior").
import { systemScopes } from '@gatehouse/directory';

/**
 * The OpenID Connect scopes, and Native SSO's `device_sso` (seed 001 reserves it): asking for a
 * device secret of the session, granted as the OpenID Connect scopes are.
 */
export const openIdConnectScopes: ReadonlySet<string> = new Set([
  ...systemScopes.map((s) => s.name),
  'device_sso',
]);

/** Each scope once, in the order first requested; empty entries (from doubled spaces) dropped. */
export function distinctScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.filter((scope) => scope.length > 0))];
}

export function listScopes(scopes: readonly string[]): string {
  return scopes.join(', ');
}
