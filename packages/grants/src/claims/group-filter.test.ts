import { describe, expect, it } from 'vitest';
import { ClaimsError } from './claims-error.js';
import { groupNamesMatching, groupsClaimLimit } from './group-filter.js';
import { groupsClaim, john, manyGroups } from './testing/subjects.js';

const names = (filter: string, type: string) =>
  groupNamesMatching(groupsClaim(filter, type), john.groups);

function thrown(run: () => unknown): ClaimsError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClaimsError) return error;
    throw error;
  }
  throw new Error('expected a ClaimsError');
}

describe('group filters', () => {
  it('given STARTS_WITH eng, when filtering, then names starting so match, whatever the case', () => {
    expect(names('eng', 'STARTS_WITH')).toEqual(['Engineering', 'eng-ops']);
  });

  it('given EQUALS, when filtering, then only the same name matches, whatever the case', () => {
    expect(names('engineering', 'EQUALS')).toEqual(['Engineering']);
    expect(names('Engineer', 'EQUALS')).toEqual([]);
  });

  it('given CONTAINS, when filtering, then names containing it match', () => {
    expect(names('OPS', 'CONTAINS')).toEqual(['eng-ops']);
    expect(names('e', 'CONTAINS')).toEqual(['Engineering', 'Everyone', 'Sales', 'eng-ops']);
  });

  it('given REGEX, when filtering, then it must match whole names, case as written', () => {
    expect(names('E.*', 'REGEX')).toEqual(['Engineering', 'Everyone']);
    expect(names('eng', 'REGEX')).toEqual([]);
    expect(names('.*', 'REGEX')).toEqual(['Engineering', 'Everyone', 'Sales', 'eng-ops']);
  });

  it('given a REGEX that could run away, when filtering, then the request fails with server_error naming the claim', () => {
    const error = thrown(() => names('(a+)+$', 'REGEX'));
    expect(error.error).toBe('server_error');
    expect(error.description).toBe(
      'The groups claim groups has a regular expression Gatehouse will not evaluate: it must not repeat a group that holds a repetition or an alternation.',
    );
  });

  it('given an unknown filter type, when filtering, then the request fails with server_error', () => {
    expect(thrown(() => names('eng', 'LIKE')).error).toBe('server_error');
  });

  it('given exactly 100 matching groups, when filtering, then all 100 are given', () => {
    const matched = groupNamesMatching(groupsClaim('team-', 'STARTS_WITH'), manyGroups(100));
    expect(matched).toHaveLength(groupsClaimLimit);
  });

  it('given 101 matching groups, when filtering, then the request fails with invalid_request (seed 001)', () => {
    const error = thrown(() =>
      groupNamesMatching(groupsClaim('team-', 'STARTS_WITH'), manyGroups(101)),
    );
    expect(error).toMatchObject({
      error: 'invalid_request',
      description:
        'The groups claim groups matched too many groups and must be configured to match fewer groups: 101 matched, at most 100 may.',
    });
  });

  it('given 101 groups of which 100 match, when filtering, then the limit counts matches only', () => {
    const groups = [...manyGroups(100), { id: '00gOther', name: 'other' }];
    expect(groupNamesMatching(groupsClaim('team-', 'STARTS_WITH'), groups)).toHaveLength(100);
  });
});
