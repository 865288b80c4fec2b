// Okta's collection criteria: `filter` and `search` expressions (SCIM-like: `attr op "value"`,
// `attr pr`, `and`, `or`, parentheses) parsed into a tree, checked against what each parameter
// allows, and evaluated on one item. `q` is a prefix over a fixed set of attributes.
import { compareMembers } from '@gatehouse/projection-store';
import { type AttributeKind, foldText } from './indexes.js';

export type Literal = string | number | boolean | null;
export type Operator = 'eq' | 'ne' | 'sw' | 'co' | 'gt' | 'ge' | 'lt' | 'le';

export type Criteria =
  | { kind: 'and' | 'or'; left: Criteria; right: Criteria }
  | { kind: 'compare'; attribute: string; op: Operator; value: Literal }
  | { kind: 'present'; attribute: string };

/** Bad `filter`, `search` or `q`: Okta's 400 E0000031 "Invalid search criteria". */
export class InvalidCriteriaError extends Error {
  override readonly name = 'InvalidCriteriaError';
}

/** What one parameter accepts, per collection. */
export interface CriteriaRules {
  operators: readonly (Operator | 'pr')[];
  /** Whether an attribute may be named; `profile.*` attributes included or not. */
  allows(attribute: string): boolean;
  /** How an attribute compares (text when it is not known). */
  kindOf(attribute: string): AttributeKind;
}

const maxLength = 2048;

type Token = { type: 'word' | 'string' | '(' | ')'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')') {
      tokens.push({ type: c, text: c });
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new InvalidCriteriaError('unterminated string');
        const d = source[i]!;
        if (d === '"') break;
        if (d === '\\') {
          i++;
          if (i >= source.length) throw new InvalidCriteriaError('unterminated string');
        }
        text += source[i];
        i++;
      }
      i++;
      tokens.push({ type: 'string', text });
    } else {
      const start = i;
      while (i < source.length && !/[\s()"]/.test(source[i]!)) i++;
      tokens.push({ type: 'word', text: source.slice(start, i) });
    }
  }
  return tokens;
}

const attributePattern = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/;
const operators = new Set(['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le']);

/** Parses a `filter` or `search` expression; InvalidCriteriaError when it is not one `rules` allows. */
export function parseCriteria(source: string, rules: CriteriaRules): Criteria {
  if (source.length > maxLength) throw new InvalidCriteriaError('expression too long');
  const tokens = tokenize(source);
  let at = 0;
  const peekWord = () => {
    const token = tokens[at];
    return token?.type === 'word' ? token.text.toLowerCase() : undefined;
  };
  let depth = 0;
  const parseOr = (): Criteria => {
    let left = parseAnd();
    while (peekWord() === 'or') {
      at++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Criteria => {
    let left = parsePrimary();
    while (peekWord() === 'and') {
      at++;
      left = { kind: 'and', left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): Criteria => {
    const token = tokens[at++];
    if (!token) throw new InvalidCriteriaError('expression ends early');
    if (token.type === '(') {
      if (++depth > 20) throw new InvalidCriteriaError('too deeply nested');
      const inner = parseOr();
      if (tokens[at++]?.type !== ')') throw new InvalidCriteriaError('missing )');
      depth--;
      return inner;
    }
    if (token.type !== 'word' || !attributePattern.test(token.text))
      throw new InvalidCriteriaError(`not an attribute: ${token.text}`);
    const attribute = token.text;
    if (!rules.allows(attribute)) throw new InvalidCriteriaError(`not searchable: ${attribute}`);
    const op = peekWord();
    at++;
    if (op === 'pr' && rules.operators.includes('pr')) return { kind: 'present', attribute };
    if (!op || !operators.has(op) || !rules.operators.includes(op as Operator))
      throw new InvalidCriteriaError(`not an operator: ${op}`);
    const value = tokens[at++];
    if (!value || (value.type !== 'string' && value.type !== 'word'))
      throw new InvalidCriteriaError('missing value');
    let literal: Literal;
    if (value.type === 'string') literal = value.text;
    else if (value.text === 'true' || value.text === 'false') literal = value.text === 'true';
    else if (value.text === 'null') literal = null;
    else if (/^-?\d+(\.\d+)?$/.test(value.text)) literal = Number(value.text);
    else throw new InvalidCriteriaError(`not a value: ${value.text}`);
    const kind = rules.kindOf(attribute);
    if (kind === 'date') {
      const instant = typeof literal === 'string' ? Date.parse(literal) : Number.NaN;
      if (Number.isNaN(instant)) throw new InvalidCriteriaError(`not a date: ${String(literal)}`);
      literal = new Date(instant).toISOString();
    } else if (kind === 'exact' && typeof literal !== 'string')
      throw new InvalidCriteriaError(`${attribute} takes a string`);
    return { kind: 'compare', attribute, op: op as Operator, value: literal };
  };
  const criteria = parseOr();
  if (at !== tokens.length) throw new InvalidCriteriaError('unexpected text after the expression');
  return criteria;
}

/** `q`: a case-insensitive prefix of any of `attributes`. */
export function prefixCriteria(q: string, attributes: readonly string[]): Criteria {
  if (q.length > 256) throw new InvalidCriteriaError('q too long');
  return attributes
    .map((attribute): Criteria => ({ kind: 'compare', attribute, op: 'sw', value: q }))
    .reduce((left, right) => ({ kind: 'or', left, right }));
}

/** Both criteria. */
export function bothCriteria(a: Criteria | undefined, b: Criteria | undefined) {
  return a && b ? ({ kind: 'and', left: a, right: b } as const) : (a ?? b);
}

export type Attributes = (attribute: string) => Literal | undefined;

/** Whether an item (its attributes) meets the criteria. */
export function meets(
  criteria: Criteria,
  attributes: Attributes,
  kindOf: (attribute: string) => AttributeKind,
): boolean {
  switch (criteria.kind) {
    case 'and':
      return meets(criteria.left, attributes, kindOf) && meets(criteria.right, attributes, kindOf);
    case 'or':
      return meets(criteria.left, attributes, kindOf) || meets(criteria.right, attributes, kindOf);
    case 'present': {
      const value = attributes(criteria.attribute);
      return value !== undefined && value !== null && value !== '';
    }
    case 'compare': {
      const actual = attributes(criteria.attribute);
      const { op, value } = criteria;
      if (actual === undefined || actual === null)
        return op === 'ne' ? value !== null : value === null && op === 'eq';
      if (typeof value !== 'string' || typeof actual !== 'string') {
        if (value === null) return op === 'ne';
        if (typeof actual !== typeof value) return op === 'ne';
        const order = actual < value ? -1 : actual > value ? 1 : 0;
        return ordered(op, order, false, false);
      }
      const text = kindOf(criteria.attribute) === 'text';
      const a = text ? foldText(actual) : actual;
      const v = text ? foldText(value) : value;
      return ordered(op, compareMembers(a, v), a.startsWith(v), a.includes(v));
    }
  }
}

function ordered(op: Operator, order: number, startsWith: boolean, contains: boolean): boolean {
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'sw':
      return startsWith;
    case 'co':
      return contains;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}
