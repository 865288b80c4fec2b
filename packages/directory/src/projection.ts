// The directory projection: every directory event to its read-model writes.
import type { Envelope } from '@gatehouse/contracts';
import { Topics } from '@gatehouse/events';
import type { WriteOp } from '@gatehouse/projection-store';
import { projectServerEvent } from './authorization-servers/projection.js';
import { projectClientEvent } from './clients/projection.js';
import { decodeDirectoryEvent } from './events.js';
import { projectGroupEvent } from './groups/projection.js';
import { readModelPrefix } from './read-model.js';
import { projectTenantEvent } from './tenants/projection.js';
import { projectUserEvent, projectUserSchemaEvent } from './users/projection.js';
import { directoryWriteModel, readsDirectoryEvent } from './write-model.js';

export function projectDirectoryEvent(envelope: Envelope): WriteOp[] {
  const event = decodeDirectoryEvent(envelope);
  if (!event) return []; // a type this version does not know: skipped, as SPEC section 7 allows
  switch (event.type) {
    case 'gatehouse.events.v1.TenantCreated':
    case 'gatehouse.events.v1.TenantDeactivated':
      return projectTenantEvent(envelope, event);
    case 'gatehouse.events.v1.UserCreated':
    case 'gatehouse.events.v1.UserProfileUpdated':
    case 'gatehouse.events.v1.UserPasswordChanged':
    case 'gatehouse.events.v1.UserActivated':
    case 'gatehouse.events.v1.UserDeactivated':
    case 'gatehouse.events.v1.UserSuspended':
    case 'gatehouse.events.v1.UserUnsuspended':
    case 'gatehouse.events.v1.UserDeleted':
      return projectUserEvent(envelope, event);
    case 'gatehouse.events.v1.UserSchemaUpdated':
      return projectUserSchemaEvent(envelope, event);
    case 'gatehouse.events.v1.GroupCreated':
    case 'gatehouse.events.v1.GroupMemberAdded':
    case 'gatehouse.events.v1.GroupMemberRemoved':
    case 'gatehouse.events.v1.GroupProfileUpdated':
    case 'gatehouse.events.v1.GroupDeleted':
      return projectGroupEvent(envelope, event);
    case 'gatehouse.events.v1.ClientRegistered':
    case 'gatehouse.events.v1.ClientUpdated':
    case 'gatehouse.events.v1.ClientSecretRotated':
    case 'gatehouse.events.v1.ClientActivated':
    case 'gatehouse.events.v1.ClientDeactivated':
    case 'gatehouse.events.v1.ClientDeleted':
    case 'gatehouse.events.v1.AppUserAssigned':
    case 'gatehouse.events.v1.AppUserUnassigned':
    case 'gatehouse.events.v1.AppGroupAssigned':
    case 'gatehouse.events.v1.AppGroupUnassigned':
      return projectClientEvent(envelope, event);
    case 'gatehouse.events.v1.AuthorizationServerCreated':
    case 'gatehouse.events.v1.AuthorizationServerUpdated':
    case 'gatehouse.events.v1.AuthorizationServerActivated':
    case 'gatehouse.events.v1.AuthorizationServerDeactivated':
    case 'gatehouse.events.v1.AuthorizationServerDeleted':
    case 'gatehouse.events.v1.ScopeCreated':
    case 'gatehouse.events.v1.ScopeUpdated':
    case 'gatehouse.events.v1.ScopeDeleted':
    case 'gatehouse.events.v1.ClaimCreated':
    case 'gatehouse.events.v1.ClaimUpdated':
    case 'gatehouse.events.v1.ClaimDeleted':
    case 'gatehouse.events.v1.PolicyCreated':
    case 'gatehouse.events.v1.PolicyUpdated':
    case 'gatehouse.events.v1.PolicyDeleted':
    case 'gatehouse.events.v1.RuleCreated':
    case 'gatehouse.events.v1.RuleUpdated':
    case 'gatehouse.events.v1.RuleDeleted':
      return projectServerEvent(envelope, event);
  }
}

/**
 * The directory read models, as the projector runs them (a `Projection` of @gatehouse/projections):
 * only the events of admitted commands, as the directory write model decides them.
 */
export const directoryProjection = {
  name: 'directory',
  topics: [Topics.directory, Topics.clientLifecycle],
  keyPrefixes: [readModelPrefix],
  project: projectDirectoryEvent,
  accepts: readsDirectoryEvent,
  writeModel: directoryWriteModel,
} as const;
