// REGEX group filters, compiled only when their matching time is bounded. A tenant administrator
// writes the pattern and every token request of the server runs it, on the backtracking engine of
// V8: a pattern such as (a+)+ or .*.*.*.*x could hold the process for minutes (ReDoS).
//
// The rules, conservative on purpose:
// - no back-references or lookarounds;
// - a repeated group holds neither a repetition nor an alternation ((a+)+, (a|ab)* are the
//   exponential cases);
// - the ways a name can be split between the repetitions (their choices multiplied along an
//   alternative, summed over alternatives) stay within those of two open-ended repetitions over a
//   255-character name: .*admin.* and eng.*|ops.* pass, .*a.*b.*c does not;
// - the pattern must match the whole name (it is anchored), and names longer than a group name
//   may be are never tested.

/** Group names are 1 to 255 characters (directory's group decider). */
export const maxGroupNameLength = 255;

const choicesOfOpenRepetition = maxGroupNameLength + 1;
const maxChoices = choicesOfOpenRepetition ** 2;
const maxPatternLength = 1024;

export type CompiledGroupPattern = { pattern: RegExp } | { refused: string };

/**
 * A group being read. `ways` bounds how many ways its body can match one name: the product of the
 * choices of the repetitions along an alternative, summed over the alternatives.
 */
interface Group {
  finishedAlternatives: number;
  currentAlternative: number;
  repeats: boolean;
  alternates: boolean;
}

/** What a repetition would apply to: nothing, a single atom, or a group just closed. */
type Repeatable = 'nothing' | 'atom' | Group;

interface Repetition {
  length: number;
  min: number;
  max: number;
}

export function compileGroupPattern(source: string): CompiledGroupPattern {
  if (source.length === 0 || source.length > maxPatternLength) {
    return { refused: `must be 1 to ${maxPatternLength} characters` };
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${source})$`);
  } catch {
    return { refused: 'is not a valid regular expression' };
  }
  const refused = unboundedBacktracking(source);
  return refused ? { refused } : { pattern };
}

const newGroup = (): Group => ({
  finishedAlternatives: 0,
  currentAlternative: 1,
  repeats: false,
  alternates: false,
});
const waysOf = (group: Group) => group.finishedAlternatives + group.currentAlternative;

/** Why the pattern could backtrack without bound, or undefined. Reads a syntactically valid one. */
function unboundedBacktracking(source: string): string | undefined {
  const groups: Group[] = [newGroup()];
  let repeatable: Repeatable = 'nothing';
  let at = 0;
  while (at < source.length) {
    const char = source[at]!;
    const group = groups.at(-1)!;
    if (char === '\\') {
      if (/[1-9k]/.test(source[at + 1] ?? '')) return 'must not use back-references';
      at += 2;
      repeatable = 'atom';
    } else if (char === '[') {
      at = endOfCharacterClass(source, at);
      repeatable = 'atom';
    } else if (char === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(at, at + 4))) return 'must not use lookarounds';
      groups.push(newGroup());
      at = startOfGroupBody(source, at);
      repeatable = 'nothing';
    } else if (char === ')') {
      const closed = groups.pop()!;
      const parent = groups.at(-1)!;
      parent.repeats ||= closed.repeats;
      parent.alternates ||= closed.alternates;
      parent.currentAlternative *= waysOf(closed);
      at += 1;
      repeatable = closed;
    } else if (char === '|') {
      group.alternates = true;
      group.finishedAlternatives += group.currentAlternative;
      group.currentAlternative = 1;
      at += 1;
      repeatable = 'nothing';
    } else {
      const repetition = repetitionAt(source, at);
      if (!repetition) {
        at += 1;
        repeatable = 'atom';
        continue;
      }
      if (typeof repeatable === 'object' && (repeatable.repeats || repeatable.alternates)) {
        return 'must not repeat a group that holds a repetition or an alternation';
      }
      if (repetition.max !== repetition.min) group.repeats = true;
      group.currentAlternative *= choicesOf(repetition);
      at += repetition.length;
      if (source[at] === '?') at += 1; // lazy: the same choices, in another order
      repeatable = 'nothing';
    }
    if (waysOf(groups.at(-1)!) > maxChoices) {
      return 'must not chain more than two open-ended repetitions';
    }
  }
  return undefined;
}

/** Just past the `]` that closes the class opened at `at` (`[]` is an empty class in JS). */
function endOfCharacterClass(source: string, at: number): number {
  let index = at + 1;
  while (index < source.length) {
    if (source[index] === '\\') index += 2;
    else if (source[index] === ']') return index + 1;
    else index += 1;
  }
  return index;
}

/** Past `(`, `(?:`, `(?<name>` or a modifier group such as `(?i:`. */
function startOfGroupBody(source: string, at: number): number {
  if (source[at + 1] !== '?') return at + 1;
  const end = source[at + 2] === '<' ? source.indexOf('>', at) : source.indexOf(':', at);
  return end + 1;
}

function repetitionAt(source: string, at: number): Repetition | undefined {
  const char = source[at];
  if (char === '*') return { length: 1, min: 0, max: Number.POSITIVE_INFINITY };
  if (char === '+') return { length: 1, min: 1, max: Number.POSITIVE_INFINITY };
  if (char === '?') return { length: 1, min: 0, max: 1 };
  // Outside these shapes a `{` is a literal character (ECMAScript Annex B).
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
  if (!braces) return undefined;
  const min = Number(braces[1]);
  const max =
    braces[2] === undefined ? min : braces[3] ? Number(braces[3]) : Number.POSITIVE_INFINITY;
  return { length: braces[0].length, min, max };
}

/** How many ways the repetition can split a name between itself and what follows. */
function choicesOf({ min, max }: Repetition): number {
  if (max === Number.POSITIVE_INFINITY) return choicesOfOpenRepetition;
  return Math.min(max - min, maxGroupNameLength) + 1;
}
