// The rules of an authorization server's access policy, in Okta's shapes (SPEC section 3), each a
// whole replacement on PUT:
//   POST|GET /api/v1/authorizationServers/{asId}/policies/{policyId}/rules
//   GET|PUT|DELETE .../policies/{policyId}/rules/{ruleId}
import type { Policy, Rule } from '@gatehouse/contracts';
import {
  DomainError,
  everyoneInRule,
  keys,
  newId,
  readStreams,
  type StreamReads,
  streams,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type Router from '@koa/router';
import { fieldsOf, nextPriority, priorityGiven, type ServerContext } from './server-context.js';

export function policyRuleRoutes(
  router: Router,
  { tenantOf, mustLoad, collection, run, idParam, loadJson }: ServerContext,
): void {
  const rulesOf = async (tenant: string, serverId: string, policyId: string) =>
    (
      await collection<Rule>(keys.rules(tenant, serverId, policyId), (id) =>
        keys.rule(tenant, serverId, id),
      )
    ).sort((a, b) => a.priority - b.priority);
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

  /** The users and groups a rule names must exist when it is admitted: decided on their streams. */
  const checkPeople = async (reads: StreamReads, rule: Rule) => {
    const groupIds = rule.groupIds.filter((id) => id !== everyoneInRule);
    const people = await readStreams(reads, [
      ...rule.userIds.map((id) => streams.user(id)),
      ...groupIds.map((id) => streams.group(id)),
    ]);
    const missing = [...rule.userIds, ...groupIds].filter((_, i) => people[i]!.status === 'NONE');
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
