// Custom authorization servers and their scopes, per tenant, in Okta's shapes (SPEC section 3):
//   POST|GET /api/v1/authorizationServers          GET|PUT|DELETE /api/v1/authorizationServers/{asId}
//   POST /api/v1/authorizationServers/{asId}/lifecycle/{activate|deactivate}
//   POST|GET /api/v1/authorizationServers/{asId}/scopes   GET|PUT|DELETE .../scopes/{scopeId}
import type { Claim, Policy, Rule, Scope } from '@gatehouse/contracts';
import {
  consentNames,
  consentOf,
  DomainError,
  decideServer,
  type FieldProblem,
  issuerOf,
  keys,
  newId,
  orgBaseUrl,
  readStreams,
  type ServerCommand,
  type ServerSettings,
  type ServerState,
  type ServerView,
  type StreamReads,
  serverViewOf,
  streams,
  type TenancyConfig,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter, type SigningKeysWait } from '../../directory-writer.js';

export interface ServerRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
  signingKeys: SigningKeysWait;
}

const serverIdPattern = /^(default|[0-9A-Za-z]{20})$/;

export function authorizationServerRoutes({
  store,
  writer,
  tenancy,
  signingKeys,
}: ServerRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/authorizationServers' });
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const load = async (tenant: string, id: string) =>
    serverIdPattern.test(id)
      ? serverViewOf(await store.hgetall(keys.authorizationServer(tenant, id)))
      : undefined;
  const mustLoad = async (ctx: Context) => {
    const server = await load(tenantOf(ctx), ctx.params.asId!);
    if (!server) throw OktaApiError.notFound('AuthorizationServer', ctx.params.asId!);
    return server;
  };
  /** Every JSON value of a collection (scopes, claims, policies, rules), in one mget. */
  const collection = async <T>(setKey: string, itemKey: (id: string) => string): Promise<T[]> => {
    const ids = (await store.smembers(setKey)).sort();
    const values = await store.mget(ids.map(itemKey));
    return values.flatMap((value) => (value ? [JSON.parse(value) as T] : []));
  };
  const scopesOf = async (tenant: string, serverId: string): Promise<Scope[]> =>
    (
      await collection<Scope>(keys.scopes(tenant, serverId), (id) =>
        keys.scope(tenant, serverId, id),
      )
    ).sort((a, b) => (a.name < b.name ? -1 : 1));
  const claimsOf = (tenant: string, serverId: string) =>
    collection<Claim>(keys.tokenClaims(tenant, serverId), (id) =>
      keys.tokenClaim(tenant, serverId, id),
    );
  const policiesOf = async (tenant: string, serverId: string) =>
    (
      await collection<Policy>(keys.policies(tenant, serverId), (id) =>
        keys.policy(tenant, serverId, id),
      )
    ).sort((a, b) => a.priority - b.priority);
  const rulesOf = async (tenant: string, serverId: string, policyId: string) =>
    (
      await collection<Rule>(keys.rules(tenant, serverId, policyId), (id) =>
        keys.rule(tenant, serverId, id),
      )
    ).sort((a, b) => a.priority - b.priority);
  /**
   * A command on one server, decided on the server's state in the write model (its scopes, claims,
   * policies and rules included); `command` may depend on that state and read other streams.
   */
  const run = (
    ctx: Context,
    serverId: string,
    command:
      | ServerCommand
      | ((state: ServerState, reads: StreamReads) => ServerCommand | Promise<ServerCommand>),
  ) =>
    writer.run(
      tenantOf(ctx),
      ctx.state.requestId as string,
      `server/${serverId}`,
      async (reads) => {
        const [state] = await readStreams(reads, [streams.server(serverId)]);
        const decided = typeof command === 'function' ? await command(state, reads) : command;
        return changesOf(serverId, decideServer(decided, state));
      },
    );
  const present = (tenant: string, server: ServerView) => {
    const base = issuerOf(tenancy, tenant, server.id);
    return {
      id: server.id,
      name: server.name,
      description: server.description,
      audiences: server.audiences,
      issuer: base,
      issuerMode: 'ORG_URL',
      status: server.status,
      created: server.created,
      lastUpdated: server.lastUpdated,
      credentials: { signing: { rotationMode: 'AUTO' } },
      _links: {
        self: { href: `${orgBaseUrl(tenancy, tenant)}/api/v1/authorizationServers/${server.id}` },
        metadata: [
          { href: `${base}/.well-known/openid-configuration` },
          { href: `${base}/.well-known/oauth-authorization-server` },
        ],
      },
    };
  };
  const presentScope = (scope: Scope) => ({
    id: scope.id,
    name: scope.name,
    description: scope.description,
    ...(scope.displayName ? { displayName: scope.displayName } : {}),
    system: scope.system,
    metadataPublish: scope.metadataPublish,
    consent: consentNames[scope.consent as keyof typeof consentNames] ?? 'IMPLICIT',
    optional: scope.isOptional,
    default: scope.isDefault,
  });

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const settings = readSettings(await readJsonObject(ctx));
    const id = newId('aus');
    await run(ctx, id, { kind: 'CreateServer', id, settings });
    // It signs from the moment the creation answers.
    await signingKeys(tenant, [id]);
    ctx.status = 201;
    ctx.body = present(tenant, (await load(tenant, id))!);
  });

  router.get('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const ids = (await store.smembers(keys.authorizationServers(tenant))).sort();
    const servers = await Promise.all(ids.map((id) => load(tenant, id)));
    ctx.body = servers.flatMap((server) => (server ? [present(tenant, server)] : []));
  });

  router.get('/:asId', async (ctx) => {
    ctx.body = present(tenantOf(ctx), await mustLoad(ctx));
  });

  router.put('/:asId', async (ctx) => {
    const server = await mustLoad(ctx);
    const settings = readSettings(await readJsonObject(ctx));
    await run(ctx, server.id, { kind: 'UpdateServer', id: server.id, settings });
    ctx.body = present(tenantOf(ctx), (await load(tenantOf(ctx), server.id))!);
  });

  router.delete('/:asId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, { kind: 'DeleteServer', id: server.id });
    ctx.status = 204;
  });

  router.post('/:asId/lifecycle/:action', async (ctx) => {
    const kind = ({ activate: 'ActivateServer', deactivate: 'DeactivateServer' } as const)[
      ctx.params.action as 'activate'
    ];
    if (!kind) throw OktaApiError.pathNotFound();
    const server = await mustLoad(ctx);
    await run(ctx, server.id, { kind, id: server.id });
    ctx.status = 204;
  });

  router.get('/:asId/scopes', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await scopesOf(tenantOf(ctx), server.id)).map(presentScope);
  });

  router.post('/:asId/scopes', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const scope = readScope(await readJsonObject(ctx), newId('scp'));
    await run(ctx, server.id, { kind: 'CreateScope', id: server.id, scope });
    ctx.status = 201;
    ctx.body = presentScope(
      JSON.parse((await store.get(keys.scope(tenant, server.id, scope.id)))!) as Scope,
    );
  });

  const mustLoadScope = async (ctx: Context, server: ServerView) => {
    const value = /^[0-9A-Za-z]{20}$/.test(ctx.params.scopeId!)
      ? await store.get(keys.scope(tenantOf(ctx), server.id, ctx.params.scopeId!))
      : null;
    if (!value) throw OktaApiError.notFound('OAuth2Scope', ctx.params.scopeId!);
    return JSON.parse(value) as Scope;
  };

  router.get('/:asId/scopes/:scopeId', async (ctx) => {
    ctx.body = presentScope(await mustLoadScope(ctx, await mustLoad(ctx)));
  });

  router.put('/:asId/scopes/:scopeId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const current = await mustLoadScope(ctx, server);
    const scope = readScope(await readJsonObject(ctx), current.id);
    await run(ctx, server.id, { kind: 'UpdateScope', id: server.id, scope });
    ctx.body = presentScope(
      JSON.parse((await store.get(keys.scope(tenant, server.id, scope.id)))!) as Scope,
    );
  });

  router.delete('/:asId/scopes/:scopeId', async (ctx) => {
    const server = await mustLoad(ctx);
    const scope = await mustLoadScope(ctx, server);
    await run(ctx, server.id, { kind: 'DeleteScope', id: server.id, scopeId: scope.id });
    ctx.status = 204;
  });

  // Claims, policies and rules: Okta's shapes, each a whole replacement on PUT.
  const presentClaim = (claim: Claim) => ({
    id: claim.id,
    name: claim.name,
    status: claim.status,
    claimType: claim.claimType,
    valueType: claim.valueType,
    value: claim.value,
    conditions: { scopes: claim.scopes },
    system: false,
    alwaysIncludeInToken: claim.alwaysIncludeInToken,
    ...(claim.valueType === 'GROUPS' ? { group_filter_type: claim.groupFilterType } : {}),
  });
  const presentPolicy = (policy: Policy) => ({
    id: policy.id,
    type: 'OAUTH_AUTHORIZATION_POLICY',
    status: policy.status,
    name: policy.name,
    description: policy.description,
    priority: policy.priority,
    system: false,
    conditions: { clients: { include: policy.clientIds } },
  });
  const presentRule = (rule: Rule) => ({
    id: rule.id,
    type: 'RESOURCE_ACCESS',
    status: rule.status,
    name: rule.name,
    priority: rule.priority,
    system: false,
    conditions: {
      people: {
        users: { include: rule.userIds, exclude: [] },
        groups: { include: rule.groupIds, exclude: [] },
      },
      grantTypes: { include: rule.grantTypes },
      scopes: { include: rule.scopes },
    },
    actions: {
      token: {
        accessTokenLifetimeMinutes: rule.accessTokenLifetimeMinutes,
        refreshTokenLifetimeMinutes: rule.refreshTokenLifetimeMinutes,
        refreshTokenWindowMinutes: rule.refreshTokenWindowMinutes,
      },
    },
  });
  const idParam = (ctx: Context, name: string) => {
    const id = ctx.params[name]!;
    if (!/^[0-9A-Za-z]{20}$/.test(id))
      throw OktaApiError.notFound(
        name === 'claimId' ? 'OAuth2Claim' : name === 'policyId' ? 'Policy' : 'PolicyRule',
        id,
      );
    return id;
  };
  const loadJson = async <T>(key: string, type: string, id: string): Promise<T> => {
    const value = await store.get(key);
    if (!value) throw OktaApiError.notFound(type, id);
    return JSON.parse(value) as T;
  };

  router.get('/:asId/claims', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await claimsOf(tenantOf(ctx), server.id))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(presentClaim);
  });
  router.post('/:asId/claims', async (ctx) => {
    const server = await mustLoad(ctx);
    const claim = readClaim(await readJsonObject(ctx), newId('ocl'));
    await run(ctx, server.id, { kind: 'CreateClaim', id: server.id, claim });
    ctx.status = 201;
    ctx.body = presentClaim(
      await loadJson<Claim>(
        keys.tokenClaim(tenantOf(ctx), server.id, claim.id),
        'OAuth2Claim',
        claim.id,
      ),
    );
  });
  router.get('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    const id = idParam(ctx, 'claimId');
    ctx.body = presentClaim(
      await loadJson<Claim>(keys.tokenClaim(tenantOf(ctx), server.id, id), 'OAuth2Claim', id),
    );
  });
  router.put('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    const claim = readClaim(await readJsonObject(ctx), idParam(ctx, 'claimId'));
    await run(ctx, server.id, { kind: 'UpdateClaim', id: server.id, claim });
    ctx.body = presentClaim(
      await loadJson<Claim>(
        keys.tokenClaim(tenantOf(ctx), server.id, claim.id),
        'OAuth2Claim',
        claim.id,
      ),
    );
  });
  router.delete('/:asId/claims/:claimId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, {
      kind: 'DeleteClaim',
      id: server.id,
      claimId: idParam(ctx, 'claimId'),
    });
    ctx.status = 204;
  });

  /** The clients a policy names must exist when it is admitted: decided on their streams too. */
  const checkClients = async (reads: StreamReads, policy: Policy) => {
    const ids = policy.clientIds.filter((id) => id !== 'ALL_CLIENTS');
    const clients = await readStreams(
      reads,
      ids.map((id) => streams.client(id)),
    );
    const missing = ids.filter((_, i) => clients[i]!.status === 'NONE');
    if (missing.length > 0)
      throw DomainError.invalid(
        missing.map((id) => ({
          field: 'conditions.clients.include',
          message: `${id} is not a client of this organization`,
        })),
      );
  };
  /** A priority the request left out: after the last one, as the state is when admitted. */
  const nextPriority = (items: Iterable<{ priority: number }>) =>
    [...items].reduce((max, item) => Math.max(max, item.priority), 0) + 1;
  const priorityGiven = (body: Record<string, unknown>) => body.priority !== undefined;
  router.get('/:asId/policies', async (ctx) => {
    const server = await mustLoad(ctx);
    ctx.body = (await policiesOf(tenantOf(ctx), server.id)).map(presentPolicy);
  });
  router.post('/:asId/policies', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const body = await readJsonObject(ctx);
    const read = readPolicy(body, newId('00p'), 1);
    await run(ctx, server.id, async (state, reads) => {
      const policy =
        priorityGiven(body) || state.status === 'NONE'
          ? read
          : { ...read, priority: nextPriority(state.policies.values()) };
      await checkClients(reads, policy);
      return { kind: 'CreatePolicy', id: server.id, policy };
    });
    ctx.status = 201;
    ctx.body = presentPolicy(
      await loadJson<Policy>(keys.policy(tenant, server.id, read.id), 'Policy', read.id),
    );
  });
  router.get('/:asId/policies/:policyId', async (ctx) => {
    const server = await mustLoad(ctx);
    const id = idParam(ctx, 'policyId');
    ctx.body = presentPolicy(
      await loadJson<Policy>(keys.policy(tenantOf(ctx), server.id, id), 'Policy', id),
    );
  });
  router.put('/:asId/policies/:policyId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const id = idParam(ctx, 'policyId');
    await loadJson<Policy>(keys.policy(tenant, server.id, id), 'Policy', id);
    const body = await readJsonObject(ctx);
    const read = readPolicy(body, id, 1);
    await run(ctx, server.id, async (state, reads) => {
      const current = state.status === 'NONE' ? undefined : state.policies.get(id);
      const policy =
        priorityGiven(body) || !current ? read : { ...read, priority: current.priority };
      await checkClients(reads, policy);
      return { kind: 'UpdatePolicy', id: server.id, policy };
    });
    ctx.body = presentPolicy(
      await loadJson<Policy>(keys.policy(tenant, server.id, id), 'Policy', id),
    );
  });
  router.delete('/:asId/policies/:policyId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, {
      kind: 'DeletePolicy',
      id: server.id,
      policyId: idParam(ctx, 'policyId'),
    });
    ctx.status = 204;
  });

  /** The users and groups a rule names must exist when it is admitted: decided on their streams. */
  const checkPeople = async (reads: StreamReads, rule: Rule) => {
    const people = await readStreams(reads, [
      ...rule.userIds.map((id) => streams.user(id)),
      ...rule.groupIds.map((id) => streams.group(id)),
    ]);
    const missing = [...rule.userIds, ...rule.groupIds].filter(
      (_, i) => people[i]!.status === 'NONE',
    );
    if (missing.length > 0)
      throw DomainError.invalid(
        missing.map((id) => ({
          field: 'conditions.people',
          message: `${id} is not a user or group of this organization`,
        })),
      );
  };
  router.get('/:asId/policies/:policyId/rules', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const policyId = idParam(ctx, 'policyId');
    await loadJson<Policy>(keys.policy(tenant, server.id, policyId), 'Policy', policyId);
    ctx.body = (await rulesOf(tenant, server.id, policyId)).map(presentRule);
  });
  router.post('/:asId/policies/:policyId/rules', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const policyId = idParam(ctx, 'policyId');
    await loadJson<Policy>(keys.policy(tenant, server.id, policyId), 'Policy', policyId);
    const body = await readJsonObject(ctx);
    const read = readRule(body, newId('0pr'), policyId, 1);
    await run(ctx, server.id, async (state, reads) => {
      const rule =
        priorityGiven(body) || state.status === 'NONE'
          ? read
          : {
              ...read,
              priority: nextPriority(
                [...state.rules.values()].filter((r) => r.policyId === policyId),
              ),
            };
      await checkPeople(reads, rule);
      return { kind: 'CreateRule', id: server.id, rule };
    });
    ctx.status = 201;
    ctx.body = presentRule(
      await loadJson<Rule>(keys.rule(tenant, server.id, read.id), 'PolicyRule', read.id),
    );
  });
  router.get('/:asId/policies/:policyId/rules/:ruleId', async (ctx) => {
    const server = await mustLoad(ctx);
    const policyId = idParam(ctx, 'policyId');
    const id = idParam(ctx, 'ruleId');
    const rule = await loadJson<Rule>(keys.rule(tenantOf(ctx), server.id, id), 'PolicyRule', id);
    if (rule.policyId !== policyId) throw OktaApiError.notFound('PolicyRule', id);
    ctx.body = presentRule(rule);
  });
  router.put('/:asId/policies/:policyId/rules/:ruleId', async (ctx) => {
    const tenant = tenantOf(ctx);
    const server = await mustLoad(ctx);
    const policyId = idParam(ctx, 'policyId');
    const id = idParam(ctx, 'ruleId');
    await loadJson<Rule>(keys.rule(tenant, server.id, id), 'PolicyRule', id);
    const body = await readJsonObject(ctx);
    const read = readRule(body, id, policyId, 1);
    await run(ctx, server.id, async (state, reads) => {
      const current = state.status === 'NONE' ? undefined : state.rules.get(id);
      const rule = priorityGiven(body) || !current ? read : { ...read, priority: current.priority };
      await checkPeople(reads, rule);
      return { kind: 'UpdateRule', id: server.id, rule };
    });
    ctx.body = presentRule(
      await loadJson<Rule>(keys.rule(tenant, server.id, id), 'PolicyRule', id),
    );
  });
  router.delete('/:asId/policies/:policyId/rules/:ruleId', async (ctx) => {
    const server = await mustLoad(ctx);
    await run(ctx, server.id, {
      kind: 'DeleteRule',
      id: server.id,
      policyId: idParam(ctx, 'policyId'),
      ruleId: idParam(ctx, 'ruleId'),
    });
    ctx.status = 204;
  });

  return router;
}

/** A request body, read field by field; wrong JSON types are collected as problems. */
function fieldsOf(body: Record<string, unknown>) {
  const problems: FieldProblem[] = [];
  const at = (path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        body,
      );
  return {
    problems,
    text(path: string, fallback = ''): string {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'string') problems.push({ field: path, message: 'must be a string' });
      return typeof value === 'string' ? value.trim() : fallback;
    },
    flag(path: string, fallback: boolean): boolean {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'boolean')
        problems.push({ field: path, message: 'must be true or false' });
      return value === true;
    },
    integer(path: string, fallback: number): number {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31) {
        problems.push({ field: path, message: 'must be a whole number' });
        return fallback;
      }
      return value;
    },
    list(path: string, fallback: string[] = []): string[] {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (
        !Array.isArray(value) ||
        !value.every((item) => typeof item === 'string') ||
        value.length > 100
      ) {
        problems.push({ field: path, message: 'must be an array of at most 100 strings' });
        return fallback;
      }
      return [...new Set(value as string[])];
    },
    done() {
      if (problems.length > 0) throw OktaApiError.validation(problems);
    },
  };
}

function readClaim(body: Record<string, unknown>, id: string): Claim {
  const f = fieldsOf(body);
  const claim: Claim = {
    id,
    name: f.text('name'),
    status: f.text('status', 'ACTIVE'),
    claimType: f.text('claimType'),
    valueType: f.text('valueType', 'EXPRESSION'),
    value: f.text('value'),
    scopes: f.list('conditions.scopes'),
    alwaysIncludeInToken: f.flag('alwaysIncludeInToken', true),
    groupFilterType: f.text('group_filter_type'),
  };
  f.done();
  return claim;
}

function readPolicy(body: Record<string, unknown>, id: string, defaultPriority: number): Policy {
  const f = fieldsOf(body);
  const policy: Policy = {
    id,
    name: f.text('name'),
    description: f.text('description'),
    priority: f.integer('priority', defaultPriority),
    status: f.text('status', 'ACTIVE'),
    clientIds: f.list('conditions.clients.include', ['ALL_CLIENTS']),
  };
  f.done();
  return policy;
}

function readRule(
  body: Record<string, unknown>,
  id: string,
  policyId: string,
  defaultPriority: number,
): Rule {
  const f = fieldsOf(body);
  const rule: Rule = {
    id,
    policyId,
    name: f.text('name'),
    priority: f.integer('priority', defaultPriority),
    status: f.text('status', 'ACTIVE'),
    grantTypes: f.list('conditions.grantTypes.include'),
    userIds: f.list('conditions.people.users.include'),
    groupIds: f.list('conditions.people.groups.include'),
    scopes: f.list('conditions.scopes.include', ['*']),
    accessTokenLifetimeMinutes: f.integer('actions.token.accessTokenLifetimeMinutes', 60),
    refreshTokenLifetimeMinutes: f.integer('actions.token.refreshTokenLifetimeMinutes', 129_600),
    refreshTokenWindowMinutes: f.integer('actions.token.refreshTokenWindowMinutes', 10_080),
  };
  f.done();
  return rule;
}

function readSettings(body: Record<string, unknown>): ServerSettings {
  const problems: FieldProblem[] = [];
  if (typeof body.name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
  if (body.description !== undefined && typeof body.description !== 'string')
    problems.push({ field: 'description', message: 'must be a string' });
  if (!Array.isArray(body.audiences) || !body.audiences.every((a) => typeof a === 'string')) {
    problems.push({ field: 'audiences', message: 'must be an array of strings' });
  }
  if (problems.length > 0) throw OktaApiError.validation(problems);
  return {
    name: (body.name as string).trim(),
    description: ((body.description as string | undefined) ?? '').trim(),
    audiences: (body.audiences as string[]).map((a) => a.trim()),
  };
}

function readScope(body: Record<string, unknown>, id: string): Scope {
  const problems: FieldProblem[] = [];
  const text = (name: string) => {
    const value = body[name];
    if (value !== undefined && typeof value !== 'string')
      problems.push({ field: name, message: 'must be a string' });
    return typeof value === 'string' ? value.trim() : '';
  };
  const flag = (name: string) => {
    const value = body[name];
    if (value !== undefined && typeof value !== 'boolean')
      problems.push({ field: name, message: 'must be true or false' });
    return value === true;
  };
  if (typeof body.name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
  const consent = consentOf(text('consent') || 'IMPLICIT');
  if (consent === undefined)
    problems.push({ field: 'consent', message: 'must be IMPLICIT, REQUIRED or FLEXIBLE' });
  const metadataPublish = text('metadataPublish') || 'NO_CLIENTS';
  if (metadataPublish !== 'NO_CLIENTS' && metadataPublish !== 'ALL_CLIENTS')
    problems.push({ field: 'metadataPublish', message: 'must be NO_CLIENTS or ALL_CLIENTS' });
  const scope: Scope = {
    id,
    name: typeof body.name === 'string' ? body.name : '',
    description: text('description'),
    displayName: text('displayName'),
    consent: consent ?? 0,
    isDefault: flag('default'),
    isOptional: flag('optional'),
    metadataPublish,
    system: false,
  };
  if (scope.description.length > 1024 || scope.displayName.length > 255)
    problems.push({ field: 'description', message: 'is too long' });
  if (problems.length > 0) throw OktaApiError.validation(problems);
  return scope;
}
