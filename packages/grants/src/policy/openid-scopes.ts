// The OpenID Connect scopes: every authorization server knows them, and any rule that matches a
// request grants them without listing them (seed 001, "Subtle behavior").
import { systemScopes } from '@gatehouse/directory';

export const openIdConnectScopes: ReadonlySet<string> = new Set(systemScopes.map((s) => s.name));

/** Each scope once, in the order first requested; empty entries (from doubled spaces) dropped. */
export function distinctScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.filter((scope) => scope.length > 0))];
}

export function listScopes(scopes: readonly string[]): string {
  return scopes.join(', ');
}
