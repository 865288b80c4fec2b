// Groups claims: the names of the user's groups that pass the claim's filter, at most 100 of them
// (seed 001: more fails the request, rather than give a token a silently partial list).
import type { Claim } from '@gatehouse/contracts';
import { compileGroupPattern, maxGroupNameLength } from '@gatehouse/directory';
import { ClaimsError } from './claims-error.js';

export const groupsClaimLimit = 100;

type GroupNameFilter = (name: string) => boolean;

/** The matching names, sorted so that a token does not depend on the read model's set order. */
export function groupNamesMatching(claim: Claim, groups: readonly { name: string }[]): string[] {
  const passes = groupNameFilter(claim);
  const names = groups.map((group) => group.name).filter(passes);
  if (names.length > groupsClaimLimit) {
    throw new ClaimsError(
      'invalid_request',
      `The groups claim ${claim.name} matched too many groups and must be configured to match ` +
        `fewer groups: ${names.length} matched, at most ${groupsClaimLimit} may.`,
    );
  }
  return names.sort(byCodeUnits);
}

/**
 * STARTS_WITH, EQUALS and CONTAINS ignore case, as group names are unique regardless of case (the
 * directory's group decider): a filter naming a group finds it however it is spelled. REGEX is
 * taken as written, matching the whole name.
 */
function groupNameFilter(claim: Claim): GroupNameFilter {
  const value = claim.value.toLowerCase();
  switch (claim.groupFilterType) {
    case 'STARTS_WITH':
      return (name) => name.toLowerCase().startsWith(value);
    case 'EQUALS':
      return (name) => name.toLowerCase() === value;
    case 'CONTAINS':
      return (name) => name.toLowerCase().includes(value);
    case 'REGEX':
      return regexFilter(claim);
    default:
      throw new ClaimsError(
        'server_error',
        `The groups claim ${claim.name} has an unknown group filter type ${claim.groupFilterType}.`,
      );
  }
}

function regexFilter(claim: Claim): GroupNameFilter {
  const compiled = compileGroupPattern(claim.value);
  if ('refused' in compiled) {
    throw new ClaimsError(
      'server_error',
      `The groups claim ${claim.name} has a regular expression Gatehouse will not evaluate: it ${compiled.refused}.`,
    );
  }
  const { pattern } = compiled;
  return (name) => name.length <= maxGroupNameLength && pattern.test(name);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
