// Key layout of the directory read models. Everything a projection writes is under `rm:`, so that
// the projections can be dropped and rebuilt from the topics as a whole.

export const readModelPrefix = 'rm:';

export const keys = {
  /** hash: id, name, status, created, lastUpdated, apiTokenSha256 */
  tenant: (id: string) => `rm:tenant:${id}`,
  /** set of every tenant id */
  tenants: () => 'rm:tenants',
  /** string: the tenant id whose API token has this SHA-256 */
  tenantByToken: (sha256: string) => `rm:tenant-by-token:${sha256}`,
  /** hash: id, status, created, activated, statusChanged, lastUpdated, passwordChanged, profile (JSON), passwordHash */
  user: (tenant: string, id: string) => `rm:user:${tenant}:${id}`,
  /** hash: custom (JSON, the custom definition: users/schema.ts CustomSchema), lastUpdated */
  userSchema: (tenant: string) => `rm:user-schema:${tenant}`,
  /** set of every user id of a tenant */
  users: (tenant: string) => `rm:users:${tenant}`,
  /** string: the user id holding a login (lower-cased) */
  userByLogin: (tenant: string, login: string) =>
    `rm:user-by-login:${tenant}:${login.toLowerCase()}`,
  /**
   * ordered index (the store's `indexPut`) of a tenant's users by one attribute (`id`, `status`,
   * `created`, `lastUpdated`, `profile.login`, ...: collections/indexes.ts), for `q`, `filter`,
   * `search` and paging
   */
  userIndex: (tenant: string, attribute: string) => `rm:user-index:${tenant}:${attribute}`,
  /** ordered index of a tenant's groups by one attribute, as userIndex */
  groupIndex: (tenant: string, attribute: string) => `rm:group-index:${tenant}:${attribute}`,
  /** ordered index of the user ids in a group, by id, for paging its members */
  groupMemberIndex: (tenant: string, groupId: string) =>
    `rm:group-member-index:${tenant}:${groupId}`,
  /** hash: id, type (OKTA_GROUP | BUILT_IN), name, description, created, lastUpdated, lastMembershipUpdated */
  group: (tenant: string, id: string) => `rm:group:${tenant}:${id}`,
  /** set of every group id of a tenant, Everyone included */
  groups: (tenant: string) => `rm:groups:${tenant}`,
  /** set of the user ids in a group (not for Everyone, whose members are keys.users) */
  groupMembers: (tenant: string, groupId: string) => `rm:group-members:${tenant}:${groupId}`,
  /** set of the group ids a user is in (Everyone not listed) */
  userGroups: (tenant: string, userId: string) => `rm:user-groups:${tenant}:${userId}`,
  /** hash: id, status, created, lastUpdated, metadata (JSON), secretSha256, deleted */
  client: (tenant: string, id: string) => `rm:client:${tenant}:${id}`,
  /** set of the ids of a tenant's clients that are not deleted (the Apps API lists them) */
  clients: (tenant: string) => `rm:clients:${tenant}`,
  /** set of the user ids assigned to an app directly */
  appUsers: (tenant: string, clientId: string) => `rm:app-users:${tenant}:${clientId}`,
  /** set of the group ids assigned to an app */
  appGroups: (tenant: string, clientId: string) => `rm:app-groups:${tenant}:${clientId}`,
  /** ordered index of a tenant's clients that are not deleted, by id: the Apps API's pages */
  clientIndex: (tenant: string) => `rm:client-index:${tenant}`,
  /** ordered index of the user ids assigned to an app directly, by id, for paging them */
  appUserIndex: (tenant: string, clientId: string) => `rm:app-user-index:${tenant}:${clientId}`,
  /** ordered index of the group ids assigned to an app, by id, for paging them */
  appGroupIndex: (tenant: string, clientId: string) => `rm:app-group-index:${tenant}:${clientId}`,
  /**
   * set of the app (client) ids a group is assigned to: what a group's deletion unassigns.
   * Maintained since groups could be deleted; a read model rebuilt from the topics has it whole.
   */
  groupApps: (tenant: string, groupId: string) => `rm:group-apps:${tenant}:${groupId}`,
  /** hash: id, name, description, audiences (JSON), status, created, lastUpdated, deleted */
  authorizationServer: (tenant: string, id: string) => `rm:authz:${tenant}:${id}`,
  /** set of every live authorization server id of a tenant */
  authorizationServers: (tenant: string) => `rm:authzs:${tenant}`,
  /** string: a scope (JSON, contracts' Scope) */
  scope: (tenant: string, serverId: string, scopeId: string) =>
    `rm:scope:${tenant}:${serverId}:${scopeId}`,
  /** set of the scope ids of a server */
  scopes: (tenant: string, serverId: string) => `rm:scopes:${tenant}:${serverId}`,
  /** string: a custom claim definition (JSON, contracts' Claim) */
  tokenClaim: (tenant: string, serverId: string, claimId: string) =>
    `rm:token-claim:${tenant}:${serverId}:${claimId}`,
  /** set of the claim definition ids of a server */
  tokenClaims: (tenant: string, serverId: string) => `rm:token-claims:${tenant}:${serverId}`,
  /** string: a policy (JSON, contracts' Policy) */
  policy: (tenant: string, serverId: string, policyId: string) =>
    `rm:policy:${tenant}:${serverId}:${policyId}`,
  /** set of the policy ids of a server */
  policies: (tenant: string, serverId: string) => `rm:policies:${tenant}:${serverId}`,
  /** string: a rule (JSON, contracts' Rule) */
  rule: (tenant: string, serverId: string, ruleId: string) =>
    `rm:rule:${tenant}:${serverId}:${ruleId}`,
  /** set of the rule ids of a policy */
  rules: (tenant: string, serverId: string, policyId: string) =>
    `rm:rules:${tenant}:${serverId}:${policyId}`,
};
