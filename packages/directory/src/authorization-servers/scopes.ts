// Scope rules from seed 001, and the OpenID Connect scopes every custom server starts with.
import { type Scope, ScopeConsent } from '@gatehouse/contracts';
import type { FieldProblem } from '../errors.js';

/**
 * Seed 001: printable ASCII except space, `"` and `\`; not `*` or `okta`, not starting with `okta.`
 * or `okta:`; `<` or `>` but not both; and not a reserved scope.
 */
export function checkScopeName(name: string): FieldProblem[] {
  const refuse = (message: string): FieldProblem[] => [{ field: 'name', message }];
  if (name.length === 0 || name.length > 300) return refuse('must be 1 to 300 characters');
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(name)) {
    return refuse(
      'must only contain printable ASCII except spaces, double quotes, and backslashes',
    );
  }
  if (name === '*' || name === 'okta' || name.startsWith('okta.') || name.startsWith('okta:')) {
    return refuse('must not start with okta. or okta: and must not be only okta or *');
  }
  if (name.includes('<') && name.includes('>')) return refuse('may contain < or > but not both');
  if (reservedScopes.has(name)) return refuse(`${name} is a reserved scope`);
  return [];
}

/** Seed 001's reserved scopes beyond the OIDC ones, which every server has already. */
const reservedScopes: ReadonlySet<string> = new Set(['groups', 'device_sso']);

export const consentNames = {
  [ScopeConsent.SCOPE_CONSENT_IMPLICIT]: 'IMPLICIT',
  [ScopeConsent.SCOPE_CONSENT_REQUIRED]: 'REQUIRED',
  [ScopeConsent.SCOPE_CONSENT_FLEXIBLE]: 'FLEXIBLE',
} as const;

export function consentOf(name: string): ScopeConsent | undefined {
  const entry = Object.entries(consentNames).find(([, value]) => value === name);
  return entry ? (Number(entry[0]) as ScopeConsent) : undefined;
}

/** The OpenID Connect scopes of every custom server (seed 001: granted by default, system). */
export const systemScopes: readonly { name: string; description: string; displayName: string }[] = [
  {
    name: 'openid',
    description: 'Signals that a request is an OpenID request.',
    displayName: 'openid',
  },
  {
    name: 'profile',
    description: 'Allows this application to access your profile information.',
    displayName: 'Your profile',
  },
  {
    name: 'email',
    description: 'Allows this application to access your email address.',
    displayName: 'Your email address',
  },
  {
    name: 'address',
    description: 'Allows this application to access your address.',
    displayName: 'Your address',
  },
  {
    name: 'phone',
    description: 'Allows this application to access your phone number.',
    displayName: 'Your phone number',
  },
  {
    name: 'offline_access',
    description: 'Allows this application to access your data when you are not signed in.',
    displayName: 'Access while you are signed out',
  },
];

export function systemScope(id: string, name: string): Scope {
  const known = systemScopes.find((s) => s.name === name)!;
  return {
    id,
    name,
    description: known.description,
    displayName: known.displayName,
    consent: ScopeConsent.SCOPE_CONSENT_IMPLICIT,
    isDefault: false,
    isOptional: false,
    metadataPublish: 'ALL_CLIENTS',
    system: true,
  };
}

/**
 * The system scopes every new server starts with, the tenant's `default` and each one created
 * through the API alike (as Okta does), so discovery lists them. `scopeId` mints each one's id.
 * Servers created before API-created servers got them keep the scopes they have.
 */
export function newServerSystemScopes(scopeId: () => string): Scope[] {
  return systemScopes.map((scope) => systemScope(scopeId(), scope.name));
}
