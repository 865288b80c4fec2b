// An authorization server's access policies, in Okta's shapes (SPEC section 3), each a whole
// replacement on PUT:
//   POST|GET /api/v1/authorizationServers/{asId}/policies   GET|PUT|DELETE .../policies/{policyId}
import type { Policy } from '@gatehouse/contracts';
import {
  DomainError,
  keys,
  newId,
  readStreams,
  type StreamReads,
  streams,
} from '@gatehouse/directory';
import { readJsonObject } from '@gatehouse/http';
import type Router from '@koa/router';
import { fieldsOf, nextPriority, priorityGiven, type ServerContext } from './server-context.js';

export function policyRoutes(
  router: Router,
  { tenantOf, mustLoad, collection, run, idParam, loadJson }: ServerContext,
): void {
  const policiesOf = async (tenant: string, serverId: string) =>
    (
      await collection<Policy>(keys.policies(tenant, serverId), (id) =>
        keys.policy(tenant, serverId, id),
      )
    ).sort((a, b) => a.priority - b.priority);
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
