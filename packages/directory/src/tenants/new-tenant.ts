// A new tenant as one change: the tenant with its Everyone group, and its custom authorization server
// `default` (SPEC section 2) with the OIDC scopes and a default policy whose rule lets every client
// use every grant type and scope. Fresh ids are made here; the deciders stay pure.
import { defaultAccessPolicy } from '../authorization-servers/access.js';
import { newServerSystemScopes } from '../authorization-servers/scopes.js';
import { decideServer } from '../authorization-servers/server.js';
import type { DirectoryEvent } from '../events.js';
import { newId } from '../ids.js';
import { decideTenant, type TenantState } from './tenant.js';

export const defaultServerId = 'default';

export function decideNewTenant(
  tenant: { id: string; name: string; apiTokenSha256: string },
  state: TenantState,
): { aggregateId: string; event: DirectoryEvent }[] {
  const everyoneGroupId = newId('00g');
  const events = decideTenant({ kind: 'CreateTenant', ...tenant, everyoneGroupId }, state);
  const defaultServer = decideServer(
    {
      kind: 'CreateServer',
      id: defaultServerId,
      settings: {
        name: 'default',
        description: 'Default Authorization Server',
        audiences: ['api://default'],
      },
      systemScopes: newServerSystemScopes(() => newId('scp')),
      defaultPolicy: defaultAccessPolicy({
        policyId: newId('00p'),
        ruleId: newId('0pr'),
        everyoneGroupId,
      }),
    },
    { status: 'NONE' },
  );
  return [
    ...events.map((event) => ({ aggregateId: tenant.id, event })),
    ...defaultServer.map((event) => ({ aggregateId: defaultServerId, event })),
  ];
}
