// The custom claims of a custom authorization server (contracts' Claim; the shapes directory's
// checkClaim accepts): which apply to a token, and their values for its user.
import type { Claim } from '@gatehouse/contracts';
import { reservedClaims } from '@gatehouse/directory';
import { groupNamesMatching } from './group-filter.js';
import type { TokenUser } from './subject.js';

export type ClaimType = 'RESOURCE' | 'IDENTITY';

export interface CustomClaimSelection {
  /** RESOURCE claims go into access tokens, IDENTITY claims into ID tokens. */
  claimType: ClaimType;
  /** The granted scopes: a claim with scope conditions needs one of them. */
  scopes: readonly string[];
  /** Only the claims marked alwaysIncludeInToken (an ID token issued with an access token). */
  onlyAlwaysIncluded?: boolean;
}

/** The active claims of that type whose scope condition holds, in definition order. */
export function applicableClaims(
  definitions: readonly Claim[],
  selection: CustomClaimSelection,
): Claim[] {
  return definitions.filter(
    (claim) =>
      claim.status === 'ACTIVE' &&
      claim.claimType === selection.claimType &&
      (!selection.onlyAlwaysIncluded || claim.alwaysIncludeInToken) &&
      scopeConditionHolds(claim, selection.scopes),
  );
}

/** No scope condition: always; otherwise one of its scopes must be granted. */
function scopeConditionHolds(claim: Claim, scopes: readonly string[]): boolean {
  return claim.scopes.length === 0 || claim.scopes.some((scope) => scopes.includes(scope));
}

/**
 * Adds each claim's value to the token's claims. A claim never replaces one the token already has
 * nor takes a reserved name (seed 001: reserved claims can't be overridden), so the first
 * definition of a name wins; a claim without a value (no user, an attribute the profile lacks, no
 * matching group) is left out.
 */
export function addCustomClaims(
  claims: Record<string, unknown>,
  definitions: readonly Claim[],
  user: TokenUser | undefined,
): void {
  for (const claim of definitions) {
    if (reservedClaims.has(claim.name) || Object.hasOwn(claims, claim.name)) continue;
    const value = customClaimValue(claim, user);
    if (value !== undefined) claims[claim.name] = value;
  }
}

export function customClaimValue(claim: Claim, user: TokenUser | undefined): unknown {
  if (claim.valueType === 'EXPRESSION') return expressionValue(claim.value, user);
  if (claim.valueType === 'GROUPS') return groupsValue(claim, user);
  return undefined;
}

const quotedString = /^"([^"\\]*)"$/;
const userAttribute = /^user\.([A-Za-z][A-Za-z0-9_]*)$/;

/** `"a literal"`, or `user.<attribute>`: the user's id or a profile attribute. */
function expressionValue(expression: string, user: TokenUser | undefined): unknown {
  const literal = quotedString.exec(expression)?.[1];
  if (literal !== undefined) return literal;
  const attribute = userAttribute.exec(expression)?.[1];
  if (!attribute || !user) return undefined;
  if (attribute === 'id') return user.id;
  // Own properties only: `user.constructor` must not reach Object's prototype. Custom attributes
  // (the profile schema's) are stored JSON-encoded beside the base ones, whose names they can't take.
  const { customJson, ...base } = user.profile;
  const profile: Readonly<Record<string, unknown>> = {
    ...(customJson ? (JSON.parse(customJson) as Record<string, unknown>) : {}),
    ...base,
  };
  return Object.hasOwn(profile, attribute) ? profile[attribute] : undefined;
}

/** No user, or no matching group: no claim, rather than an empty list. */
function groupsValue(claim: Claim, user: TokenUser | undefined): string[] | undefined {
  if (!user) return undefined;
  const names = groupNamesMatching(claim, user.groups);
  return names.length > 0 ? names : undefined;
}
