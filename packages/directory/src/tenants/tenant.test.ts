// given / when / then over the tenant decider.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.js';
import {
  decideTenant,
  evolveTenant,
  initialTenantState,
  type TenantCommand,
  type TenantEvent,
} from './tenant.js';

const digest = 'a'.repeat(64);

function given(events: TenantEvent[]) {
  const state = events.reduce(evolveTenant, initialTenantState);
  return {
    when: (command: TenantCommand) => ({
      then: (expected: TenantEvent[]) => expect(decideTenant(command, state)).toEqual(expected),
      thenRefuses: (kind: DomainError['kind'], fields: string[] = []) => {
        let error: unknown;
        try {
          decideTenant(command, state);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe(kind);
        expect((error as DomainError).problems.map((p) => p.field)).toEqual(fields);
      },
    }),
  };
}

const created: TenantEvent = {
  type: 'gatehouse.events.v1.TenantCreated',
  data: { name: 'Acme', apiTokenSha256: digest },
};
const deactivated: TenantEvent = { type: 'gatehouse.events.v1.TenantDeactivated', data: {} };

describe('tenant decider', () => {
  it('creates a tenant, trimming its name', () => {
    given([])
      .when({ kind: 'CreateTenant', id: 'acme', name: '  Acme  ', apiTokenSha256: digest })
      .then([created]);
  });

  it('refuses an id that exists already', () => {
    given([created])
      .when({ kind: 'CreateTenant', id: 'acme', name: 'Acme 2', apiTokenSha256: digest })
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
      .when({ kind: 'CreateTenant', id, name: 'Acme', apiTokenSha256: digest })
      .thenRefuses('invalid', ['id']);
  });

  it('names every field at fault at once', () => {
    given([])
      .when({ kind: 'CreateTenant', id: 'A', name: ' ', apiTokenSha256: 'nope' })
      .thenRefuses('invalid', ['id', 'name', 'apiToken']);
    given([])
      .when({ kind: 'CreateTenant', id: 'acme', name: 'x'.repeat(101), apiTokenSha256: digest })
      .thenRefuses('invalid', ['name']);
    given([])
      .when({ kind: 'CreateTenant', id: 'acme', name: 'A\u0007cme', apiTokenSha256: digest })
      .thenRefuses('invalid', ['name']);
  });

  it('deactivates an active tenant once; again is a no-op', () => {
    given([created]).when({ kind: 'DeactivateTenant', id: 'acme' }).then([deactivated]);
    given([created, deactivated]).when({ kind: 'DeactivateTenant', id: 'acme' }).then([]);
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
