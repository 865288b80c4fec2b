// The user profile as the API shows it (Okta's attribute names, which ts-proto's UserProfile shares):
// checking a new profile, merging a partial update, and refusing attributes the schema lacks.
import type { UserProfile } from '@gatehouse/contracts';
import type { FieldProblem } from '../errors.js';
import { type CustomSchema, customValueProblem } from './schema.js';

type Rule = {
  required?: boolean;
  max: number;
  pattern?: RegExp;
  hint?: string;
  check?: (value: string) => boolean;
};

const emailLike = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

const stringRules: Record<Exclude<keyof UserProfile, 'emailVerified' | 'customJson'>, Rule> = {
  login: {
    required: true,
    max: 100,
    pattern: emailLike,
    hint: 'must be in the form of an email address',
  },
  email: {
    required: true,
    max: 100,
    pattern: emailLike,
    hint: 'must be in the form of an email address',
  },
  firstName: { required: true, max: 50 },
  lastName: { required: true, max: 50 },
  middleName: { max: 50 },
  displayName: { max: 255 },
  nickName: { max: 255 },
  profileUrl: {
    max: 1024,
    check: (v) => /^https?:\/\//.test(v) && URL.canParse(v),
    hint: 'must be an http or https URL',
  },
  locale: { max: 16, pattern: /^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/, hint: 'must look like en-US' },
  timezone: {
    max: 64,
    check: isTimeZone,
    hint: 'must be an IANA time zone such as America/Los_Angeles',
  },
  primaryPhone: { max: 100, pattern: /^[0-9+()\-. x]{3,100}$/, hint: 'must be a telephone number' },
  streetAddress: { max: 1024 },
  city: { max: 128 },
  state: { max: 128 },
  zipCode: { max: 50 },
  countryCode: {
    max: 2,
    pattern: /^[A-Z]{2}$/,
    hint: 'must be an ISO 3166-1 alpha-2 code such as US',
  },
  // Okta's base profile beyond the OpenID Connect claims, with its schema's limits.
  mobilePhone: { max: 100, pattern: /^[0-9+()\-. x]{3,100}$/, hint: 'must be a telephone number' },
  secondEmail: { max: 100, pattern: emailLike, hint: 'must be in the form of an email address' },
  title: { max: 1024 },
  postalAddress: { max: 4096 },
  preferredLanguage: {
    max: 16,
    pattern: /^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/,
    hint: 'must be a language tag such as en-US',
  },
  userType: { max: 1024 },
  employeeNumber: { max: 1024 },
  costCenter: { max: 1024 },
  organization: { max: 1024 },
  division: { max: 1024 },
  department: { max: 1024 },
  managerId: { max: 1024 },
  manager: { max: 1024 },
  honorificPrefix: { max: 1024 },
  honorificSuffix: { max: 1024 },
};

export const profileAttributes = [...Object.keys(stringRules), 'emailVerified'] as const;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** A profile's custom attribute values (stored JSON-encoded in `customJson`). */
export function customValuesOf(profile: UserProfile): Record<string, unknown> {
  return profile.customJson ? (JSON.parse(profile.customJson) as Record<string, unknown>) : {};
}

/**
 * The profile as the API shows it: the base attributes with the custom ones the schema declares
 * (a value of an attribute the schema no longer has is not shown).
 */
export function profileForDisplay(
  profile: UserProfile,
  schema?: CustomSchema,
): Record<string, unknown> {
  const { customJson: _, ...shown } = profile;
  const custom = customValuesOf(profile);
  for (const [name, value] of Object.entries(custom))
    if (!schema || Object.hasOwn(schema.properties, name))
      (shown as Record<string, unknown>)[name] = value;
  return shown;
}

/**
 * Reads a profile object from a request: a new one (`base` absent) or a partial update of `base`,
 * where null clears an optional attribute. Returns the whole resulting profile, or the problems.
 * Custom attributes are those of `schema` (none when absent), checked against their definitions.
 */
export function readProfile(
  input: unknown,
  base?: UserProfile,
  schema: CustomSchema = { properties: {}, required: [] },
): { profile?: UserProfile; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { problems: [{ field: 'profile', message: 'must be an object' }] };
  }
  const { customJson: _, ...baseAttributes } = base ?? {
    login: '',
    email: '',
    firstName: '',
    lastName: '',
  };
  const profile: Record<string, unknown> = { ...baseAttributes };
  // Values of attributes the schema no longer declares are dropped with the next change.
  const custom = Object.fromEntries(
    Object.entries(base ? customValuesOf(base) : {}).filter(([name]) =>
      Object.hasOwn(schema.properties, name),
    ),
  );
  for (const [name, value] of Object.entries(input)) {
    const field = `profile.${name}`;
    const attribute = Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
    if (attribute && !Object.hasOwn(stringRules, name)) {
      if (value === null) delete custom[name];
      else {
        const problem = customValueProblem(attribute, value);
        if (problem) problems.push({ field, message: problem });
        else custom[name] = value;
      }
      continue;
    }
    if (name === 'emailVerified') {
      if (value === null) delete profile.emailVerified;
      else if (typeof value === 'boolean') profile.emailVerified = value;
      else problems.push({ field, message: 'must be true or false' });
      continue;
    }
    const rule = Object.hasOwn(stringRules, name)
      ? stringRules[name as keyof typeof stringRules]
      : undefined;
    if (!rule) {
      problems.push({ field, message: `Property name '${name}' is not defined in profile` });
      continue;
    }
    if (value === null && !rule.required) {
      delete profile[name];
      continue;
    }
    if (typeof value !== 'string') {
      problems.push({ field, message: 'must be a string' });
      continue;
    }
    const trimmed = value.trim();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(value))
      problems.push({ field, message: 'must not contain control characters' });
    else if (trimmed.length > rule.max)
      problems.push({ field, message: `must be at most ${rule.max} characters` });
    else if (trimmed.length === 0 && rule.required)
      problems.push({ field, message: 'must not be empty' });
    else if (
      trimmed.length > 0 &&
      ((rule.pattern && !rule.pattern.test(trimmed)) || (rule.check && !rule.check(trimmed)))
    ) {
      problems.push({ field, message: rule.hint ?? 'is not valid' });
    } else if (trimmed.length === 0) delete profile[name];
    else profile[name] = trimmed;
  }
  for (const [name, rule] of Object.entries(stringRules)) {
    if (rule.required && !profile[name] && !problems.some((p) => p.field === `profile.${name}`)) {
      problems.push({ field: `profile.${name}`, message: 'is required' });
    }
  }
  for (const name of schema.required)
    if (custom[name] === undefined && !problems.some((p) => p.field === `profile.${name}`))
      problems.push({ field: `profile.${name}`, message: 'is required' });
  const names = Object.keys(custom).sort();
  if (names.length > 0)
    profile.customJson = JSON.stringify(Object.fromEntries(names.map((n) => [n, custom[n]])));
  return problems.length > 0
    ? { problems }
    : { profile: profile as unknown as UserProfile, problems };
}

/** The login as uniqueness compares it. */
export function loginKey(login: string): string {
  return login.toLowerCase();
}

// Okta's titles of its base attributes, as its schema shows them.
const baseTitles: Record<string, string> = {
  login: 'Username',
  email: 'Primary email',
  firstName: 'First name',
  lastName: 'Last name',
  middleName: 'Middle name',
  displayName: 'Display name',
  nickName: 'Nickname',
  profileUrl: 'Profile Url',
  locale: 'Locale',
  timezone: 'Time zone',
  primaryPhone: 'Primary phone',
  streetAddress: 'Street address',
  city: 'City',
  state: 'State',
  zipCode: 'Zip code',
  countryCode: 'Country code',
  mobilePhone: 'Mobile phone',
  secondEmail: 'Secondary email',
  title: 'Title',
  postalAddress: 'Postal Address',
  preferredLanguage: 'Preferred language',
  userType: 'User type',
  employeeNumber: 'Employee number',
  costCenter: 'Cost center',
  organization: 'Organization',
  division: 'Division',
  department: 'Department',
  managerId: 'ManagerId',
  manager: 'Manager',
  honorificPrefix: 'Honorific prefix',
  honorificSuffix: 'Honorific suffix',
  emailVerified: 'Email verified',
};

/** The base attributes as Okta's schema document shows them (`definitions.base`). */
export function baseSchemaProperties(): {
  properties: Record<string, Record<string, unknown>>;
  required: string[];
} {
  const properties: Record<string, Record<string, unknown>> = {};
  const common = (name: string) => ({
    title: baseTitles[name] ?? name,
    mutability: 'READ_WRITE',
    scope: 'NONE',
    permissions: [{ principal: 'SELF', action: 'READ_WRITE' }],
    master: { type: 'PROFILE_MASTER' },
  });
  for (const [name, rule] of Object.entries(stringRules)) {
    const { title, ...rest } = common(name);
    properties[name] = {
      title,
      type: 'string',
      ...(rule.required ? { required: true } : {}),
      ...(name === 'login' ? { unique: 'UNIQUE_VALIDATED', minLength: 5 } : {}),
      ...(rule.required && name !== 'login' ? { minLength: 1 } : {}),
      ...(rule.pattern === emailLike ? { format: 'email' } : {}),
      maxLength: rule.max,
      ...rest,
    };
  }
  const { title, ...rest } = common('emailVerified');
  properties.emailVerified = { title, type: 'boolean', ...rest };
  return {
    properties,
    required: Object.entries(stringRules)
      .filter(([, rule]) => rule.required)
      .map(([name]) => name),
  };
}
