import { describe, expect, it } from 'vitest';
import { compileGroupPattern } from './group-pattern.js';

const refusal = (source: string) => {
  const compiled = compileGroupPattern(source);
  return 'refused' in compiled ? compiled.refused : undefined;
};
const matches = (source: string, name: string) => {
  const compiled = compileGroupPattern(source);
  if (!('pattern' in compiled)) throw new Error(`refused: ${compiled.refused}`);
  return compiled.pattern.test(name);
};

describe('REGEX group filters', () => {
  it.each([
    '.*admin.*',
    'eng.*|ops.*|sec.*',
    '(eng|ops)-.*',
    '(?:ab)+x',
    '[a-z]+-[0-9]{1,3}',
    'Engineering',
    '^eng$',
    '[(*+)]+x', // quantifier characters in a class are literals
    '\\(a\\+\\)+', // so are escaped ones
    'a{,2}b', // and braces that are no quantifier (Annex B)
    '(?<team>eng)-.*',
  ])('given %s, when compiled, then it is accepted', (source) => {
    expect(refusal(source)).toBeUndefined();
  });

  it.each([
    ['(a+)+', 'must not repeat a group that holds a repetition or an alternation'],
    ['(a|ab)*', 'must not repeat a group that holds a repetition or an alternation'],
    ['(\\w+\\s?)*', 'must not repeat a group that holds a repetition or an alternation'],
    ['((a)*)+', 'must not repeat a group that holds a repetition or an alternation'],
    ['.*a.*b.*c', 'must not chain more than two open-ended repetitions'],
    ['a?'.repeat(17), 'must not chain more than two open-ended repetitions'],
    ['(.*)(.*)(.*)x', 'must not chain more than two open-ended repetitions'],
    ['(a)\\1', 'must not use back-references'],
    ['(?<x>a)\\k<x>', 'must not use back-references'],
    ['(?=eng).*', 'must not use lookarounds'],
    ['(?<!x)eng', 'must not use lookarounds'],
    ['(', 'is not a valid regular expression'],
    ['', 'must be 1 to 1024 characters'],
    ['a'.repeat(1025), 'must be 1 to 1024 characters'],
  ])('given %s, when compiled, then it is refused: %s', (source, reason) => {
    expect(refusal(source)).toBe(reason);
  });

  it('given a pattern, when matched, then it must match the whole name', () => {
    expect(matches('eng', 'eng')).toBe(true);
    expect(matches('eng', 'engineering')).toBe(false);
    expect(matches('eng.*', 'engineering')).toBe(true);
    expect(matches('eng|ops', 'xops')).toBe(false);
    expect(matches('eng|ops', 'ops')).toBe(true);
  });

  it('given the worst accepted patterns, when run against a long name that fails late, then they stay fast', () => {
    const name = `${'a'.repeat(254)}!`;
    for (const source of ['.*.*x', 'a{1,255}a{1,255}', `${'a?'.repeat(16)}b`]) {
      const started = performance.now();
      expect(matches(source, name)).toBe(false);
      expect(performance.now() - started).toBeLessThan(250);
    }
  });
});
