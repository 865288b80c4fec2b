// Okta's filter, search and q parsed and evaluated.
import { describe, expect, it } from 'vitest';
import { userFilterRules, userSearchRules } from './collections.js';
import { InvalidCriteriaError, meets, parseCriteria, prefixCriteria } from './criteria.js';

const kindOf = userSearchRules.kindOf;

describe('collections: criteria', () => {
  it('parses comparisons, and/or with and binding tighter, parentheses and pr', () => {
    expect(parseCriteria('status eq "ACTIVE"', userFilterRules)).toEqual({
      kind: 'compare',
      attribute: 'status',
      op: 'eq',
      value: 'ACTIVE',
    });
    expect(
      parseCriteria('profile.a eq "1" or profile.b eq "2" and profile.c pr', userSearchRules),
    ).toEqual({
      kind: 'or',
      left: { kind: 'compare', attribute: 'profile.a', op: 'eq', value: '1' },
      right: {
        kind: 'and',
        left: { kind: 'compare', attribute: 'profile.b', op: 'eq', value: '2' },
        right: { kind: 'present', attribute: 'profile.c' },
      },
    });
    expect(
      parseCriteria(
        '(profile.a eq "x \\" y" OR profile.b sw "z") AND profile.n gt 5',
        userSearchRules,
      ),
    ).toMatchObject({ kind: 'and', right: { value: 5 } });
    // Dates are normalised to the instant the indexes hold.
    expect(parseCriteria('lastUpdated gt "2013-06-01"', userFilterRules)).toMatchObject({
      value: '2013-06-01T00:00:00.000Z',
    });
  });

  it('refuses what Okta refuses: bad syntax, unknown operators, attributes a parameter does not allow', () => {
    for (const [source, rules] of [
      ['', userFilterRules],
      ['status', userFilterRules],
      ['status eq', userFilterRules],
      ['status eq ACTIVE', userFilterRules],
      ['status eq "ACTIVE" and', userFilterRules],
      ['(status eq "ACTIVE"', userFilterRules],
      ['status eq "ACTIVE")', userFilterRules],
      ['status eq "unterminated', userFilterRules],
      ['status like "A"', userSearchRules],
      ['profile.login sw "a"', userFilterRules],
      ['profile.title eq "x"', userFilterRules],
      ['created eq "x"', userSearchRules],
      ['passwordHash eq "x"', userSearchRules],
      ['status eq 5', userSearchRules],
      [`${'('.repeat(30)}status pr${')'.repeat(30)}`, userSearchRules],
      ['profile.a eq "x" '.repeat(200), userSearchRules],
    ] as const)
      expect(() => parseCriteria(source, rules), source).toThrow(InvalidCriteriaError);
  });

  it('evaluates text case-insensitively, exact attributes as written, dates as instants', () => {
    const user = (attribute: string) =>
      ({
        status: 'ACTIVE',
        created: '2026-01-02T00:00:00.000Z',
        'profile.login': 'Ada@Example.com',
        'profile.age': 36,
      })[attribute];
    const check = (source: string) => meets(parseCriteria(source, userSearchRules), user, kindOf);
    expect(check('profile.login eq "ada@example.com"')).toBe(true);
    expect(check('profile.login sw "ADA@"')).toBe(true);
    expect(check('profile.login co "example"')).toBe(true);
    expect(check('status eq "active"')).toBe(false);
    expect(check('created gt "2026-01-01T23:59:59Z" and created lt "2026-01-03"')).toBe(true);
    expect(check('profile.age ge 36 and profile.age lt 37')).toBe(true);
    expect(check('profile.missing pr or profile.login ne "ada@example.com"')).toBe(false);
    expect(check('profile.missing eq null')).toBe(true);
    const q = prefixCriteria('ADA', ['profile.firstName', 'profile.login']);
    expect(meets(q, user, kindOf)).toBe(true);
  });
});
