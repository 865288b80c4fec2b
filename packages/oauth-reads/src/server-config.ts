// What /token needs to know of an authorization server, read from the directory read model in a few
// batched round trips: the server, its scopes, claim definitions, policies and rules.
import type { Claim, Policy, Rule, Scope } from '@gatehouse/contracts';
import {
  issuerOf,
  keys,
  type ServerView,
  serverViewOf,
  type TenancyConfig,
} from '@gatehouse/directory';
import type { ProjectionStore } from '@gatehouse/projection-store';
import { orgServerId } from '@gatehouse/signing-keys';

export interface ServerConfig {
  tenant: string;
  /** "org" for the org authorization server. */
  serverId: string;
  issuer: string;
  /** The `aud` of its access tokens. */
  audience: string | string[];
  /** Undefined for the org server. */
  server?: ServerView;
  scopes: Scope[];
  claims: Claim[];
  policies: Policy[];
  rules: Rule[];
}

const parsed = <T>(values: (string | null)[]) =>
  values.filter((value): value is string => value !== null).map((value) => JSON.parse(value) as T);

/** The server, or undefined when it does not exist (or is deleted). */
export async function loadServerConfig(
  store: ProjectionStore,
  tenancy: TenancyConfig,
  tenant: string,
  serverId: string,
): Promise<ServerConfig | undefined> {
  if (serverId === orgServerId) {
    const issuer = issuerOf(tenancy, tenant);
    return {
      tenant,
      serverId,
      issuer,
      audience: issuer,
      scopes: [],
      claims: [],
      policies: [],
      rules: [],
    };
  }
  const [fields, scopeIds, claimIds, policyIds] = await store.read([
    { op: 'hgetall', key: keys.authorizationServer(tenant, serverId) },
    { op: 'smembers', key: keys.scopes(tenant, serverId) },
    { op: 'smembers', key: keys.tokenClaims(tenant, serverId) },
    { op: 'smembers', key: keys.policies(tenant, serverId) },
  ] as const);
  const server = serverViewOf(fields);
  if (!server) return undefined;
  const ruleSets = await store.read(
    policyIds.map(
      (policyId) => ({ op: 'smembers', key: keys.rules(tenant, serverId, policyId) }) as const,
    ),
  );
  const ruleIds = ruleSets.flatMap((ids, i) =>
    ids.map((ruleId) => ({ policyId: policyIds[i]!, ruleId })),
  );
  const values = await store.mget([
    ...scopeIds.map((id) => keys.scope(tenant, serverId, id)),
    ...claimIds.map((id) => keys.tokenClaim(tenant, serverId, id)),
    ...policyIds.map((id) => keys.policy(tenant, serverId, id)),
    ...ruleIds.map(({ ruleId }) => keys.rule(tenant, serverId, ruleId)),
  ]);
  let at = 0;
  const take = (count: number) => {
    const taken = values.slice(at, at + count);
    at += count;
    return taken;
  };
  const scopes = parsed<Scope>(take(scopeIds.length));
  const claims = parsed<Claim>(take(claimIds.length)).sort((a, b) => a.id.localeCompare(b.id));
  const policies = parsed<Policy>(take(policyIds.length));
  const rules = parsed<Rule>(take(ruleIds.length));
  return {
    tenant,
    serverId,
    issuer: issuerOf(tenancy, tenant, serverId),
    audience: server.audiences.length === 1 ? server.audiences[0]! : server.audiences,
    server,
    scopes,
    claims,
    policies,
    rules,
  };
}
