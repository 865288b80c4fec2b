// A user as the API shows it (Okta's user object).
import {
  type CustomSchema,
  orgBaseUrl,
  profileForDisplay,
  type TenancyConfig,
  type UserView,
} from '@gatehouse/directory';

/** `schema`: the tenant's custom attributes, whose values the profile shows. */
export function presentUser(
  tenancy: TenancyConfig,
  tenant: string,
  user: UserView,
  schema: CustomSchema,
) {
  return {
    id: user.id,
    status: user.status,
    created: user.created,
    activated: user.activated,
    statusChanged: user.statusChanged,
    lastLogin: user.lastLogin,
    lastUpdated: user.lastUpdated,
    passwordChanged: user.passwordChanged,
    type: { id: 'default' },
    profile: profileForDisplay(user.profile, schema),
    credentials: {
      ...(user.hasPassword ? { password: {} } : {}),
      provider: { type: 'OKTA', name: 'OKTA' },
    },
    _links: { self: { href: `${orgBaseUrl(tenancy, tenant)}/api/v1/users/${user.id}` } },
  };
}
