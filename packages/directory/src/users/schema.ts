// The tenant's user profile schema (Okta's /api/v1/meta/schemas/user/default): the custom attributes
// users may carry, as a decider on one stream per tenant, and checking a value against them.
import { DomainError, type FieldProblem } from '../errors.js';
import type { DirectoryEvent } from '../events.js';
import { profileAttributes } from './profile.js';

export const customAttributeTypes = ['string', 'boolean', 'integer', 'number', 'array'] as const;
export type CustomAttributeType = (typeof customAttributeTypes)[number];

/** One custom attribute as Okta's schema shows it (what an SDK may send is kept as given). */
export interface CustomAttribute {
  title: string;
  description?: string;
  type: CustomAttributeType;
  items?: { type: 'string'; enum?: string[]; oneOf?: unknown[] };
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  oneOf?: { const: unknown; title: string }[];
  permissions?: unknown[];
  mutability?: string;
  scope?: string;
  master?: unknown;
  unique?: string;
  externalName?: string;
  externalNamespace?: string;
  union?: string;
  pattern?: string;
}

/** The custom definition: its attributes by name, and the names a user must have. */
export interface CustomSchema {
  properties: Record<string, CustomAttribute>;
  required: string[];
}

export type UserSchemaState = CustomSchema;
export const initialUserSchemaState: UserSchemaState = { properties: {}, required: [] };

export type UserSchemaCommand = { kind: 'UpdateUserSchema'; custom: CustomSchema };
export type UserSchemaEvent = Extract<
  DirectoryEvent,
  { type: 'gatehouse.events.v1.UserSchemaUpdated' }
>;

/** The one schema a tenant has; its id is its stream's and its events' aggregate id. */
export const userSchemaId = 'default';

export function decideUserSchema(
  command: UserSchemaCommand,
  state: UserSchemaState,
): UserSchemaEvent[] {
  const problems = checkCustomSchema(command.custom);
  if (problems.length > 0) throw DomainError.invalid(problems);
  const customJson = JSON.stringify(command.custom);
  if (customJson === JSON.stringify(state)) return [];
  return [{ type: 'gatehouse.events.v1.UserSchemaUpdated', data: { customJson } }];
}

export function evolveUserSchema(_state: UserSchemaState, event: UserSchemaEvent): UserSchemaState {
  return parseCustomSchema(event.data.customJson);
}

export function parseCustomSchema(json: string | undefined): CustomSchema {
  if (!json) return initialUserSchemaState;
  const parsed = JSON.parse(json) as Partial<CustomSchema>;
  return { properties: parsed.properties ?? {}, required: parsed.required ?? [] };
}

const namePattern = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** Names a custom attribute can't take: the base profile's, and what the API uses itself. */
const isTaken = (name: string) =>
  ['id', 'status', 'customJson'].includes(name) ||
  (profileAttributes as readonly string[]).includes(name);
const passThrough = [
  'mutability',
  'scope',
  'master',
  'unique',
  'externalName',
  'externalNamespace',
  'union',
  'pattern',
] as const;

/**
 * Applies a request's `definitions.custom` to the current custom definition with Okta's partial
 * update: the properties given replace theirs, a property given as null goes, the others stay.
 */
export function readCustomSchemaUpdate(
  input: unknown,
  current: CustomSchema,
): { custom?: CustomSchema; problems: FieldProblem[] } {
  const base = 'definitions.custom';
  if (input === undefined) return { custom: current, problems: [] };
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { problems: [{ field: base, message: 'must be an object' }] };
  const body = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const properties: Record<string, CustomAttribute> = { ...current.properties };
  const requiredFlags = new Map<string, boolean>();
  const given = body.properties;
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given)))
    problems.push({ field: `${base}.properties`, message: 'must be an object' });
  else if (given) {
    for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
      const field = `${base}.properties.${name}`;
      if (!namePattern.test(name)) {
        problems.push({
          field,
          message: 'must start with a letter and hold only letters, digits and underscores',
        });
        continue;
      }
      if (isTaken(name)) {
        problems.push({
          field,
          message: `Property name '${name}' is already defined in the base schema`,
        });
        continue;
      }
      if (value === null) {
        delete properties[name];
        continue;
      }
      const attribute = readAttribute(value, field, problems);
      if (!attribute) continue;
      if (attribute.required !== undefined) requiredFlags.set(name, attribute.required);
      properties[name] = attribute;
    }
  }
  let required = current.required.filter((name) => name in properties);
  if (body.required !== undefined) {
    if (!Array.isArray(body.required) || body.required.some((n) => typeof n !== 'string'))
      problems.push({ field: `${base}.required`, message: 'must be a list of attribute names' });
    else {
      required = [...new Set(body.required as string[])];
      for (const name of required)
        if (!(name in properties))
          problems.push({
            field: `${base}.required`,
            message: `Property name '${name}' is not defined in the custom schema`,
          });
    }
  }
  for (const [name, flag] of requiredFlags) {
    required = required.filter((n) => n !== name);
    if (flag) required.push(name);
  }
  for (const name of Object.keys(properties)) {
    const attribute = { ...properties[name]! };
    if (required.includes(name)) attribute.required = true;
    else delete attribute.required;
    properties[name] = attribute;
  }
  if (problems.length > 0) return { problems };
  return { custom: { properties: sortedByName(properties), required: required.sort() }, problems };
}

function sortedByName<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000_000;

function readAttribute(
  value: unknown,
  field: string,
  problems: FieldProblem[],
): CustomAttribute | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ field, message: 'must be an object' });
    return undefined;
  }
  const given = value as Record<string, unknown>;
  const before = problems.length;
  const type = given.type as CustomAttributeType;
  if (!customAttributeTypes.includes(type))
    problems.push({
      field: `${field}.type`,
      message: `must be one of ${customAttributeTypes.join(', ')}`,
    });
  if (typeof given.title !== 'string' || given.title.trim() === '' || given.title.length > 1024)
    problems.push({ field: `${field}.title`, message: 'must be 1 to 1024 characters' });
  if (
    given.description !== undefined &&
    given.description !== null &&
    typeof given.description !== 'string'
  )
    problems.push({ field: `${field}.description`, message: 'must be a string' });
  if (
    given.required !== undefined &&
    given.required !== null &&
    typeof given.required !== 'boolean'
  )
    problems.push({ field: `${field}.required`, message: 'must be true or false' });
  for (const bound of ['minLength', 'maxLength'] as const) {
    if (given[bound] === undefined || given[bound] === null) continue;
    if (type !== 'string')
      problems.push({ field: `${field}.${bound}`, message: 'applies to string attributes only' });
    else if (!isCount(given[bound]))
      problems.push({ field: `${field}.${bound}`, message: 'must be a non-negative integer' });
  }
  if (isCount(given.minLength) && isCount(given.maxLength) && given.minLength > given.maxLength)
    problems.push({
      field: `${field}.minLength`,
      message: 'must not be greater than maxLength',
    });
  let items: CustomAttribute['items'];
  if (type === 'array') {
    const givenItems = given.items as Record<string, unknown> | undefined;
    if (!givenItems || typeof givenItems !== 'object' || givenItems.type !== 'string')
      problems.push({ field: `${field}.items.type`, message: 'must be string' });
    else {
      items = { type: 'string' };
      if (givenItems.enum !== undefined && givenItems.enum !== null) {
        if (!Array.isArray(givenItems.enum) || givenItems.enum.some((v) => typeof v !== 'string'))
          problems.push({ field: `${field}.items.enum`, message: 'must be a list of strings' });
        else items.enum = givenItems.enum as string[];
      }
      if (Array.isArray(givenItems.oneOf)) items.oneOf = givenItems.oneOf;
    }
  } else if (given.items !== undefined && given.items !== null)
    problems.push({ field: `${field}.items`, message: 'applies to array attributes only' });
  const valueProblem = (v: unknown) =>
    type === 'array' ? typeProblem('string', v) : typeProblem(type, v);
  if (given.enum !== undefined && given.enum !== null) {
    if (!Array.isArray(given.enum) || given.enum.length === 0)
      problems.push({ field: `${field}.enum`, message: 'must be a non-empty list' });
    else if (given.enum.some((v) => valueProblem(v) !== undefined))
      problems.push({ field: `${field}.enum`, message: `must hold ${type} values only` });
  }
  if (given.oneOf !== undefined && given.oneOf !== null) {
    const entries = given.oneOf;
    if (
      !Array.isArray(entries) ||
      entries.some(
        (e) =>
          typeof e !== 'object' ||
          e === null ||
          typeof (e as { title?: unknown }).title !== 'string' ||
          valueProblem((e as { const?: unknown }).const) !== undefined,
      )
    )
      problems.push({
        field: `${field}.oneOf`,
        message: `must be a list of {const, title} with ${type} constants`,
      });
    else if (
      Array.isArray(given.enum) &&
      entries.some((e) => !(given.enum as unknown[]).includes((e as { const: unknown }).const))
    )
      problems.push({ field: `${field}.oneOf`, message: 'must hold the values of enum' });
  }
  if (
    given.permissions !== undefined &&
    given.permissions !== null &&
    !Array.isArray(given.permissions)
  )
    problems.push({ field: `${field}.permissions`, message: 'must be a list' });
  if (problems.length > before) return undefined;
  const attribute: CustomAttribute = { title: (given.title as string).trim(), type };
  if (typeof given.description === 'string') attribute.description = given.description;
  if (typeof given.required === 'boolean') attribute.required = given.required;
  if (isCount(given.minLength)) attribute.minLength = given.minLength;
  if (isCount(given.maxLength)) attribute.maxLength = given.maxLength;
  if (items) attribute.items = items;
  if (Array.isArray(given.enum)) attribute.enum = given.enum;
  if (Array.isArray(given.oneOf)) attribute.oneOf = given.oneOf as CustomAttribute['oneOf'];
  if (Array.isArray(given.permissions)) attribute.permissions = given.permissions;
  for (const key of passThrough)
    if (given[key] !== undefined && given[key] !== null)
      (attribute as unknown as Record<string, unknown>)[key] = given[key];
  return attribute;
}

/** The decider's own check: what a stored definition must satisfy whoever built it. */
function checkCustomSchema(custom: CustomSchema): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const name of Object.keys(custom.properties))
    if (!namePattern.test(name) || isTaken(name))
      problems.push({
        field: `definitions.custom.properties.${name}`,
        message: 'is not a valid name',
      });
  for (const name of custom.required)
    if (!(name in custom.properties))
      problems.push({
        field: 'definitions.custom.required',
        message: `Property name '${name}' is not defined in the custom schema`,
      });
  return problems;
}

function typeProblem(type: CustomAttributeType | 'string', value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? undefined
        : 'must be an integer';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'array':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : 'must be a list of strings';
  }
}

/** A user's value of a custom attribute against its definition: a problem, or undefined. */
export function customValueProblem(attribute: CustomAttribute, value: unknown): string | undefined {
  const problem = typeProblem(attribute.type, value);
  if (problem) return problem;
  if (attribute.type === 'string') {
    const text = value as string;
    if (attribute.minLength !== undefined && text.length < attribute.minLength)
      return `must be at least ${attribute.minLength} characters`;
    if (attribute.maxLength !== undefined && text.length > attribute.maxLength)
      return `must be at most ${attribute.maxLength} characters`;
  }
  const allowed =
    attribute.type === 'array' ? (attribute.items?.enum ?? attribute.enum) : attribute.enum;
  if (allowed) {
    const values = attribute.type === 'array' ? (value as unknown[]) : [value];
    if (values.some((v) => !allowed.includes(v)))
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return undefined;
}
