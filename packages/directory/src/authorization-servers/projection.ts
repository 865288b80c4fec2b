// The authorization server read model: a hash per server and per scope, the tenant's set of servers,
// each server's set of scopes. Deletion leaves a tombstone. (Scope names are unique by the server's
// write model, which the command decides on.)
import type { Envelope, Scope } from '@gatehouse/contracts';
import type { WriteOp } from '@gatehouse/projection-store';
import { keys } from '../read-model.js';
import type { ServerEvent } from './server.js';

export interface ServerView {
  id: string;
  name: string;
  description: string;
  audiences: string[];
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
}

export function projectServerEvent(envelope: Envelope, event: ServerEvent): WriteOp[] {
  const { tenant, aggregateId: id } = envelope;
  const at = (envelope.occurredAt ?? new Date(0)).toISOString();
  const key = keys.authorizationServer(tenant, id);
  const touched: WriteOp = { op: 'hset', key, fields: { lastUpdated: at } };
  const scopeWrites = (scope: Scope): WriteOp[] => [
    { op: 'set', key: keys.scope(tenant, id, scope.id), value: JSON.stringify(scope) },
    { op: 'sadd', key: keys.scopes(tenant, id), members: [scope.id] },
    { op: 'hset', key, fields: { lastUpdated: at } },
  ];
  switch (event.type) {
    case 'gatehouse.events.v1.AuthorizationServerCreated':
      return [
        {
          op: 'hset',
          key,
          fields: {
            id,
            name: event.data.name,
            description: event.data.description,
            audiences: JSON.stringify(event.data.audiences),
            status: 'ACTIVE',
            created: at,
            lastUpdated: at,
          },
        },
        { op: 'sadd', key: keys.authorizationServers(tenant), members: [id] },
      ];
    case 'gatehouse.events.v1.AuthorizationServerUpdated':
      return [
        {
          op: 'hset',
          key,
          fields: {
            name: event.data.name,
            description: event.data.description,
            audiences: JSON.stringify(event.data.audiences),
            lastUpdated: at,
          },
        },
      ];
    case 'gatehouse.events.v1.AuthorizationServerActivated':
      return [{ op: 'hset', key, fields: { status: 'ACTIVE', lastUpdated: at } }];
    case 'gatehouse.events.v1.AuthorizationServerDeactivated':
      return [{ op: 'hset', key, fields: { status: 'INACTIVE', lastUpdated: at } }];
    case 'gatehouse.events.v1.AuthorizationServerDeleted':
      return [
        { op: 'hset', key, fields: { deleted: at, lastUpdated: at } },
        { op: 'srem', key: keys.authorizationServers(tenant), members: [id] },
      ];
    case 'gatehouse.events.v1.ScopeCreated':
      return scopeWrites(event.data.scope!);
    case 'gatehouse.events.v1.ScopeUpdated':
      return scopeWrites(event.data.scope!);
    case 'gatehouse.events.v1.ScopeDeleted':
      return [
        { op: 'del', key: keys.scope(tenant, id, event.data.scopeId) },
        { op: 'srem', key: keys.scopes(tenant, id), members: [event.data.scopeId] },
        { op: 'hset', key, fields: { lastUpdated: at } },
      ];
    case 'gatehouse.events.v1.ClaimCreated':
    case 'gatehouse.events.v1.ClaimUpdated': {
      const claim = event.data.claim!;
      return [
        { op: 'set', key: keys.tokenClaim(tenant, id, claim.id), value: JSON.stringify(claim) },
        { op: 'sadd', key: keys.tokenClaims(tenant, id), members: [claim.id] },
        touched,
      ];
    }
    case 'gatehouse.events.v1.ClaimDeleted':
      return [
        { op: 'del', key: keys.tokenClaim(tenant, id, event.data.claimId) },
        { op: 'srem', key: keys.tokenClaims(tenant, id), members: [event.data.claimId] },
        touched,
      ];
    case 'gatehouse.events.v1.PolicyCreated':
    case 'gatehouse.events.v1.PolicyUpdated': {
      const policy = event.data.policy!;
      return [
        { op: 'set', key: keys.policy(tenant, id, policy.id), value: JSON.stringify(policy) },
        { op: 'sadd', key: keys.policies(tenant, id), members: [policy.id] },
        touched,
      ];
    }
    case 'gatehouse.events.v1.PolicyDeleted':
      return [
        { op: 'del', key: keys.policy(tenant, id, event.data.policyId) },
        { op: 'srem', key: keys.policies(tenant, id), members: [event.data.policyId] },
        touched,
      ];
    case 'gatehouse.events.v1.RuleCreated':
    case 'gatehouse.events.v1.RuleUpdated': {
      const rule = event.data.rule!;
      return [
        { op: 'set', key: keys.rule(tenant, id, rule.id), value: JSON.stringify(rule) },
        { op: 'sadd', key: keys.rules(tenant, id, rule.policyId), members: [rule.id] },
        touched,
      ];
    }
    case 'gatehouse.events.v1.RuleDeleted':
      return [
        { op: 'del', key: keys.rule(tenant, id, event.data.ruleId) },
        {
          op: 'srem',
          key: keys.rules(tenant, id, event.data.policyId),
          members: [event.data.ruleId],
        },
        touched,
      ];
  }
}

export function serverViewOf(fields: Record<string, string>): ServerView | undefined {
  if (!fields.id || !fields.audiences || fields.deleted) return undefined;
  return {
    id: fields.id,
    name: fields.name ?? '',
    description: fields.description ?? '',
    audiences: JSON.parse(fields.audiences) as string[],
    status: fields.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE',
    created: fields.created ?? '',
    lastUpdated: fields.lastUpdated ?? '',
  };
}
