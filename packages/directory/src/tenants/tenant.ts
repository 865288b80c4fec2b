// The tenant aggregate as a decider: pure, with time and ids passed in (STYLE: decide + evolve +
// initialState). A tenant is created active with an API token (only its hash is kept) and can be
// deactivated, which ends it for good.

import { DomainError, type FieldProblem } from '../errors.js';
import type { DirectoryEvent } from '../events.js';

/** Tenant ids are URL path segments or host labels (SPEC section 2). */
export const tenantIdPattern = /^[a-z0-9-]{2,40}$/;

/** Ids that would clash with Gatehouse's own paths or hosts. */
export const reservedTenantIds: ReadonlySet<string> = new Set([
  'api',
  'oauth2',
  'well-known',
  'admin',
  'system',
  'login',
  'logout',
  'signin',
  'sso',
  'static',
  'assets',
  'healthz',
  'readyz',
  'metrics',
  'www',
]);

export const maxTenantNameLength = 100;

export type TenantState = { status: 'NONE' } | { status: 'ACTIVE' | 'INACTIVE'; name: string };

export const initialTenantState: TenantState = { status: 'NONE' };

export type TenantCommand =
  | {
      kind: 'CreateTenant';
      id: string;
      name: string;
      apiTokenSha256: string;
      everyoneGroupId: string;
    }
  | { kind: 'DeactivateTenant'; id: string };

export type TenantEvent = Extract<DirectoryEvent, { type: `gatehouse.events.v1.Tenant${string}` }>;

export function decideTenant(command: TenantCommand, state: TenantState): TenantEvent[] {
  switch (command.kind) {
    case 'CreateTenant': {
      const problems = validateNewTenant(command);
      if (problems.length > 0) throw DomainError.invalid(problems);
      if (state.status !== 'NONE') {
        throw DomainError.invalid([
          { field: 'id', message: 'A tenant with this id already exists' },
        ]);
      }
      return [
        {
          type: 'gatehouse.events.v1.TenantCreated',
          data: {
            name: command.name.trim(),
            apiTokenSha256: command.apiTokenSha256,
            everyoneGroupId: command.everyoneGroupId,
          },
        },
      ];
    }
    case 'DeactivateTenant':
      if (state.status === 'NONE')
        throw new DomainError('not_found', `tenant ${command.id} not found`);
      // Deactivating an inactive tenant changes nothing, and says so with no event.
      return state.status === 'ACTIVE'
        ? [{ type: 'gatehouse.events.v1.TenantDeactivated', data: {} }]
        : [];
  }
}

export function evolveTenant(state: TenantState, event: TenantEvent): TenantState {
  switch (event.type) {
    case 'gatehouse.events.v1.TenantCreated':
      return { status: 'ACTIVE', name: event.data.name };
    case 'gatehouse.events.v1.TenantDeactivated':
      return state.status === 'NONE' ? state : { ...state, status: 'INACTIVE' };
  }
}

function validateNewTenant(
  command: Extract<TenantCommand, { kind: 'CreateTenant' }>,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!tenantIdPattern.test(command.id)) {
    problems.push({
      field: 'id',
      message: 'Tenant id must be 2 to 40 characters of a-z, 0-9 and -',
    });
  } else if (reservedTenantIds.has(command.id)) {
    problems.push({ field: 'id', message: `Tenant id "${command.id}" is reserved` });
  }
  const name = command.name.trim();
  if (name.length === 0) problems.push({ field: 'name', message: 'Tenant name must not be empty' });
  else if (name.length > maxTenantNameLength) {
    problems.push({
      field: 'name',
      message: `Tenant name must be at most ${maxTenantNameLength} characters`,
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(command.name)) {
    problems.push({ field: 'name', message: 'Tenant name must not contain control characters' });
  }
  if (!/^[0-9a-f]{64}$/.test(command.apiTokenSha256)) {
    problems.push({ field: 'apiToken', message: 'API token digest must be a hex SHA-256' });
  }
  return problems;
}
