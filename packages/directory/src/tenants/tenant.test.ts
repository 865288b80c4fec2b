// given / when / then over the tenant decider.
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../testing/given.js';
import { decideTenant, evolveTenant, initialTenantState, type TenantEvent } from './tenant.js';

const digest = 'a'.repeat(64);
const everyoneGroupId = '00gEVERYONE000000000';

const given = deciderSpec({
  decide: decideTenant,
  evolve: evolveTenant,
  initialState: initialTenantState,
});

const created: TenantEvent = {
  type: 'gatehouse.events.v1.TenantCreated',
  data: { name: 'Acme', apiTokenSha256: digest, everyoneGroupId },
};
const deactivated: TenantEvent = { type: 'gatehouse.events.v1.TenantDeactivated', data: {} };

describe('tenant decider', () => {
  it('creates a tenant, trimming its name', () => {
    given([])
      .when({
        kind: 'CreateTenant',
        id: 'acme',
        name: '  Acme  ',
        apiTokenSha256: digest,
        everyoneGroupId,
      })
      .thenEmits([created]);
  });

  it('refuses an id that exists already', () => {
    given([created])
      .when({
        kind: 'CreateTenant',
        id: 'acme',
        name: 'Acme 2',
        apiTokenSha256: digest,
        everyoneGroupId,
      })
      .thenRefuses('invalid', ['id']);
  });

  it.each([
    ['a', 'too short'],
    ['x'.repeat(41), 'too long'],
    ['Acme', 'upper case'],
    ['ac me', 'space'],
    ['acme.corp', 'dot'],
    ['api', 'reserved'],
    ['oauth2', 'reserved'],
  ])('refuses the id %j (%s)', (id) => {
    given([])
      .when({ kind: 'CreateTenant', id, name: 'Acme', apiTokenSha256: digest, everyoneGroupId })
      .thenRefuses('invalid', ['id']);
  });

  it('names every field at fault at once', () => {
    given([])
      .when({ kind: 'CreateTenant', id: 'A', name: ' ', apiTokenSha256: 'nope', everyoneGroupId })
      .thenRefuses('invalid', ['id', 'name', 'apiToken']);
    given([])
      .when({
        kind: 'CreateTenant',
        id: 'acme',
        name: 'x'.repeat(101),
        apiTokenSha256: digest,
        everyoneGroupId,
      })
      .thenRefuses('invalid', ['name']);
    given([])
      .when({
        kind: 'CreateTenant',
        id: 'acme',
        name: 'A\u0007cme',
        apiTokenSha256: digest,
        everyoneGroupId,
      })
      .thenRefuses('invalid', ['name']);
  });

  it('deactivates an active tenant once; again is a no-op', () => {
    given([created]).when({ kind: 'DeactivateTenant', id: 'acme' }).thenEmits([deactivated]);
    given([created, deactivated]).when({ kind: 'DeactivateTenant', id: 'acme' }).thenEmits([]);
  });

  it('refuses to deactivate a tenant that does not exist', () => {
    given([]).when({ kind: 'DeactivateTenant', id: 'acme' }).thenRefuses('not_found');
  });

  it('evolves to the state the read model shows', () => {
    expect([created].reduce(evolveTenant, initialTenantState)).toEqual({
      status: 'ACTIVE',
      name: 'Acme',
    });
    expect([created, deactivated].reduce(evolveTenant, initialTenantState)).toEqual({
      status: 'INACTIVE',
      name: 'Acme',
    });
  });
});
