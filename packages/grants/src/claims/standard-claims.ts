// The standard OpenID Connect claims of a user, by scope (seed 001's scope-dependent claims table),
// read from the Okta profile. An attribute the profile lacks gives no claim, never a null.
import type { TokenUser } from './subject.js';

export type StandardScope = 'profile' | 'email' | 'address' | 'phone';

type ClaimsOfUser = (user: TokenUser) => Record<string, unknown>;

const claimsByScope: Readonly<Record<StandardScope, ClaimsOfUser>> = {
  profile: (user) => ({
    name: fullName(user),
    nickname: user.profile.nickName,
    preferred_username: user.login,
    given_name: user.profile.firstName,
    middle_name: user.profile.middleName,
    family_name: user.profile.lastName,
    profile: user.profile.profileUrl,
    zoneinfo: user.profile.timezone,
    locale: oidcLocale(user.profile.locale),
    updated_at: epochSeconds(user.lastUpdated),
  }),
  email: (user) => ({
    email: user.profile.email,
    // Unknown is reported as false: an address nobody verified must never pass for a verified one.
    email_verified: user.profile.emailVerified === true,
  }),
  address: (user) => ({ address: postalAddress(user) }),
  phone: (user) => ({ phone_number: user.profile.primaryPhone }),
};

/**
 * What an ID token keeps of them when an access token comes with it, to stay small (seed 000 and
 * seed 001's response-type table): the rest is for /userinfo.
 */
const compactClaimsByScope: Readonly<Partial<Record<StandardScope, readonly string[]>>> = {
  profile: ['name', 'preferred_username'],
  email: ['email'],
};

/** Every standard claim of the granted scopes: an ID token without access token, and /userinfo. */
export function standardClaims(
  user: TokenUser,
  scopes: readonly string[],
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const scope of standardScopesOf(scopes)) Object.assign(claims, claimsByScope[scope](user));
  return withoutAbsent(claims);
}

/** The few standard claims an ID token issued with an access token carries. */
export function compactStandardClaims(
  user: TokenUser,
  scopes: readonly string[],
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const scope of standardScopesOf(scopes)) {
    const all = claimsByScope[scope](user);
    for (const name of compactClaimsByScope[scope] ?? []) claims[name] = all[name];
  }
  return withoutAbsent(claims);
}

/** In the table's order, whatever the order of the request, so that tokens read alike. */
function standardScopesOf(scopes: readonly string[]): StandardScope[] {
  return (Object.keys(claimsByScope) as StandardScope[]).filter((scope) => scopes.includes(scope));
}

/** The profile's display name, else given and family names (both required in a profile). */
function fullName(user: TokenUser): string | undefined {
  const { displayName, firstName, lastName } = user.profile;
  if (displayName) return displayName;
  const joined = [firstName, lastName].filter(Boolean).join(' ');
  return joined || undefined;
}

/** OIDC wants a BCP 47 tag (en-US); Okta profiles also allow en_US. */
function oidcLocale(locale: string | undefined): string | undefined {
  return locale?.replace('_', '-');
}

function epochSeconds(iso: string): number | undefined {
  const millis = Date.parse(iso);
  return Number.isNaN(millis) ? undefined : Math.floor(millis / 1000);
}

/** OIDC Core 5.1.1's address structure, with the parts the profile has; none: no claim. */
function postalAddress(user: TokenUser): Record<string, string> | undefined {
  const { streetAddress, city, state, zipCode, countryCode } = user.profile;
  const address = withoutAbsent({
    street_address: streetAddress,
    locality: city,
    region: state,
    postal_code: zipCode,
    country: countryCode,
  }) as Record<string, string>;
  return Object.keys(address).length > 0 ? address : undefined;
}

function withoutAbsent(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(claims).filter(([, value]) => value !== undefined && value !== ''),
  );
}
