// The custom authorization server aggregate, with its scopes, as a decider. (Claims, policies and
// rules join it next.) Deleting needs the server to be deactivated first; system scopes are fixed.
import type { Claim, Policy, Rule, Scope } from '@gatehouse/contracts';
import { DomainError, type FieldProblem } from '../errors.js';
import type { DirectoryEvent } from '../events.js';
import { checkClaim, checkPolicy, checkRule } from './access.js';
import { checkScopeName } from './scopes.js';

export interface ServerSettings {
  name: string;
  description: string;
  audiences: string[];
}

export type ServerState =
  | { status: 'NONE' }
  | {
      status: 'ACTIVE' | 'INACTIVE';
      settings: ServerSettings;
      scopes: ReadonlyMap<string, Scope>;
      claims: ReadonlyMap<string, Claim>;
      policies: ReadonlyMap<string, Policy>;
      rules: ReadonlyMap<string, Rule>;
    };

export const initialServerState: ServerState = { status: 'NONE' };

export type ServerCommand =
  | {
      kind: 'CreateServer';
      id: string;
      settings: ServerSettings;
      systemScopes?: Scope[];
      defaultPolicy?: { policy: Policy; rule: Rule };
    }
  | { kind: 'UpdateServer'; id: string; settings: ServerSettings }
  | { kind: 'ActivateServer' | 'DeactivateServer' | 'DeleteServer'; id: string }
  | { kind: 'CreateScope'; id: string; scope: Scope }
  | { kind: 'UpdateScope'; id: string; scope: Scope }
  | { kind: 'DeleteScope'; id: string; scopeId: string }
  | {
      kind: 'CreateClaim' | 'UpdateClaim';
      id: string;
      claim: Claim;
      /** The custom attributes of the tenant's user profile schema, which `user.<name>` may name. */
      customAttributes?: readonly string[];
    }
  | { kind: 'DeleteClaim'; id: string; claimId: string }
  | { kind: 'CreatePolicy' | 'UpdatePolicy'; id: string; policy: Policy }
  | { kind: 'DeletePolicy'; id: string; policyId: string }
  | { kind: 'CreateRule' | 'UpdateRule'; id: string; rule: Rule }
  | { kind: 'DeleteRule'; id: string; policyId: string; ruleId: string };

export type ServerEvent = Extract<
  DirectoryEvent,
  {
    type: `gatehouse.events.v1.${'AuthorizationServer' | 'Scope' | 'Claim' | 'Policy' | 'Rule'}${string}`;
  }
>;

export function checkServerSettings(settings: ServerSettings): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (settings.name.length === 0 || settings.name.length > 128)
    problems.push({ field: 'name', message: 'must be 1 to 128 characters' });
  if (settings.description.length > 1024)
    problems.push({ field: 'description', message: 'must be at most 1024 characters' });
  if (settings.audiences.length !== 1)
    problems.push({ field: 'audiences', message: 'must hold exactly one audience' });
  else if (
    settings.audiences[0]!.length === 0 ||
    settings.audiences[0]!.length > 1024 ||
    /\s/.test(settings.audiences[0]!)
  ) {
    problems.push({ field: 'audiences', message: 'must be 1 to 1024 characters without spaces' });
  }
  return problems;
}

export function decideServer(command: ServerCommand, state: ServerState): ServerEvent[] {
  if (command.kind === 'CreateServer') {
    const problems = checkServerSettings(command.settings);
    if (problems.length > 0) throw DomainError.invalid(problems);
    if (state.status !== 'NONE')
      throw DomainError.invalid([
        { field: 'id', message: 'An authorization server with this id already exists' },
      ]);
    return [
      { type: 'gatehouse.events.v1.AuthorizationServerCreated', data: command.settings },
      ...(command.systemScopes ?? []).map(
        (scope): ServerEvent => ({ type: 'gatehouse.events.v1.ScopeCreated', data: { scope } }),
      ),
      ...(command.defaultPolicy
        ? ([
            {
              type: 'gatehouse.events.v1.PolicyCreated',
              data: { policy: command.defaultPolicy.policy },
            },
            { type: 'gatehouse.events.v1.RuleCreated', data: { rule: command.defaultPolicy.rule } },
          ] as ServerEvent[])
        : []),
    ];
  }
  if (state.status === 'NONE')
    throw new DomainError('not_found', `Resource not found: ${command.id} (AuthorizationServer)`);
  const scopeNamed = (name: string) => [...state.scopes.values()].find((s) => s.name === name);
  switch (command.kind) {
    case 'UpdateServer': {
      const problems = checkServerSettings(command.settings);
      if (problems.length > 0) throw DomainError.invalid(problems);
      return JSON.stringify(command.settings) === JSON.stringify(state.settings)
        ? []
        : [{ type: 'gatehouse.events.v1.AuthorizationServerUpdated', data: command.settings }];
    }
    case 'ActivateServer':
      return state.status === 'ACTIVE'
        ? []
        : [{ type: 'gatehouse.events.v1.AuthorizationServerActivated', data: {} }];
    case 'DeactivateServer':
      return state.status === 'INACTIVE'
        ? []
        : [{ type: 'gatehouse.events.v1.AuthorizationServerDeactivated', data: {} }];
    case 'DeleteServer':
      if (state.status !== 'INACTIVE')
        throw new DomainError(
          'invalid_state',
          'An authorization server must be deactivated before it is deleted',
        );
      return [{ type: 'gatehouse.events.v1.AuthorizationServerDeleted', data: {} }];
    case 'CreateScope': {
      const problems = checkScopeName(command.scope.name);
      if (problems.length > 0) throw DomainError.invalid(problems);
      if (scopeNamed(command.scope.name))
        throw DomainError.invalid([
          { field: 'name', message: 'A scope with this name already exists' },
        ]);
      return [
        {
          type: 'gatehouse.events.v1.ScopeCreated',
          data: { scope: { ...command.scope, system: false } },
        },
      ];
    }
    case 'UpdateScope': {
      const current = state.scopes.get(command.scope.id);
      if (!current)
        throw new DomainError('not_found', `Resource not found: ${command.scope.id} (OAuth2Scope)`);
      if (current.system)
        throw new DomainError(
          'invalid_state',
          `The system scope ${current.name} cannot be changed`,
        );
      const problems = checkScopeName(command.scope.name);
      if (problems.length > 0) throw DomainError.invalid(problems);
      const other = scopeNamed(command.scope.name);
      if (other && other.id !== current.id)
        throw DomainError.invalid([
          { field: 'name', message: 'A scope with this name already exists' },
        ]);
      const scope = { ...command.scope, system: false };
      if (JSON.stringify(scope) === JSON.stringify(current)) return [];
      return [
        {
          type: 'gatehouse.events.v1.ScopeUpdated',
          data: { scope, previousName: current.name === scope.name ? '' : current.name },
        },
      ];
    }
    case 'DeleteScope': {
      const current = state.scopes.get(command.scopeId);
      if (!current)
        throw new DomainError('not_found', `Resource not found: ${command.scopeId} (OAuth2Scope)`);
      if (current.system)
        throw new DomainError(
          'invalid_state',
          `The system scope ${current.name} cannot be deleted`,
        );
      return [
        {
          type: 'gatehouse.events.v1.ScopeDeleted',
          data: { scopeId: current.id, name: current.name },
        },
      ];
    }
    case 'CreateClaim':
    case 'UpdateClaim': {
      const { claim } = command;
      if (command.kind === 'UpdateClaim' && !state.claims.has(claim.id))
        throw notFound(claim.id, 'OAuth2Claim');
      refuse(checkClaim(claim, [...state.scopes.values()], command.customAttributes));
      const twin = [...state.claims.values()].find(
        (c) => c.name === claim.name && c.claimType === claim.claimType && c.id !== claim.id,
      );
      if (twin)
        throw DomainError.invalid([
          { field: 'name', message: `A ${claim.claimType} claim with this name already exists` },
        ]);
      if (command.kind === 'UpdateClaim' && same(state.claims.get(claim.id), claim)) return [];
      return [
        {
          type:
            command.kind === 'CreateClaim'
              ? 'gatehouse.events.v1.ClaimCreated'
              : 'gatehouse.events.v1.ClaimUpdated',
          data: { claim },
        } as ServerEvent,
      ];
    }
    case 'DeleteClaim':
      if (!state.claims.has(command.claimId)) throw notFound(command.claimId, 'OAuth2Claim');
      return [{ type: 'gatehouse.events.v1.ClaimDeleted', data: { claimId: command.claimId } }];
    case 'CreatePolicy':
    case 'UpdatePolicy': {
      const { policy } = command;
      if (command.kind === 'UpdatePolicy' && !state.policies.has(policy.id))
        throw notFound(policy.id, 'Policy');
      refuse(checkPolicy(policy));
      if (command.kind === 'UpdatePolicy' && same(state.policies.get(policy.id), policy)) return [];
      return [
        {
          type:
            command.kind === 'CreatePolicy'
              ? 'gatehouse.events.v1.PolicyCreated'
              : 'gatehouse.events.v1.PolicyUpdated',
          data: { policy },
        } as ServerEvent,
      ];
    }
    case 'DeletePolicy': {
      if (!state.policies.has(command.policyId)) throw notFound(command.policyId, 'Policy');
      // Its rules go first, one event each, so that no projection has to look them up.
      const rules = [...state.rules.values()].filter((r) => r.policyId === command.policyId);
      return [
        ...rules.map(
          (r): ServerEvent => ({
            type: 'gatehouse.events.v1.RuleDeleted',
            data: { policyId: r.policyId, ruleId: r.id },
          }),
        ),
        { type: 'gatehouse.events.v1.PolicyDeleted', data: { policyId: command.policyId } },
      ];
    }
    case 'CreateRule':
    case 'UpdateRule': {
      const { rule } = command;
      if (!state.policies.has(rule.policyId)) throw notFound(rule.policyId, 'Policy');
      const current = state.rules.get(rule.id);
      if (command.kind === 'UpdateRule' && (!current || current.policyId !== rule.policyId))
        throw notFound(rule.id, 'PolicyRule');
      refuse(checkRule(rule, [...state.scopes.values()]));
      if (command.kind === 'UpdateRule' && same(current, rule)) return [];
      return [
        {
          type:
            command.kind === 'CreateRule'
              ? 'gatehouse.events.v1.RuleCreated'
              : 'gatehouse.events.v1.RuleUpdated',
          data: { rule },
        } as ServerEvent,
      ];
    }
    case 'DeleteRule': {
      const current = state.rules.get(command.ruleId);
      if (!current || current.policyId !== command.policyId)
        throw notFound(command.ruleId, 'PolicyRule');
      return [
        {
          type: 'gatehouse.events.v1.RuleDeleted',
          data: { policyId: command.policyId, ruleId: command.ruleId },
        },
      ];
    }
  }
}

const notFound = (id: string, type: string) =>
  new DomainError('not_found', `Resource not found: ${id} (${type})`);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
function refuse(problems: FieldProblem[]): void {
  if (problems.length > 0) throw DomainError.invalid(problems);
}

export function evolveServer(state: ServerState, event: ServerEvent): ServerState {
  if (event.type === 'gatehouse.events.v1.AuthorizationServerCreated') {
    return {
      status: 'ACTIVE',
      settings: {
        name: event.data.name,
        description: event.data.description,
        audiences: event.data.audiences,
      },
      scopes: new Map(),
      claims: new Map(),
      policies: new Map(),
      rules: new Map(),
    };
  }
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'gatehouse.events.v1.AuthorizationServerUpdated':
      return {
        ...state,
        settings: {
          name: event.data.name,
          description: event.data.description,
          audiences: event.data.audiences,
        },
      };
    case 'gatehouse.events.v1.AuthorizationServerActivated':
      return { ...state, status: 'ACTIVE' };
    case 'gatehouse.events.v1.AuthorizationServerDeactivated':
      return { ...state, status: 'INACTIVE' };
    case 'gatehouse.events.v1.AuthorizationServerDeleted':
      return { status: 'NONE' };
    case 'gatehouse.events.v1.ScopeCreated':
    case 'gatehouse.events.v1.ScopeUpdated':
      return {
        ...state,
        scopes: new Map([...state.scopes, [event.data.scope!.id, event.data.scope!]]),
      };
    case 'gatehouse.events.v1.ScopeDeleted':
      return {
        ...state,
        scopes: new Map([...state.scopes].filter(([id]) => id !== event.data.scopeId)),
      };
    case 'gatehouse.events.v1.ClaimCreated':
    case 'gatehouse.events.v1.ClaimUpdated':
      return {
        ...state,
        claims: new Map([...state.claims, [event.data.claim!.id, event.data.claim!]]),
      };
    case 'gatehouse.events.v1.ClaimDeleted':
      return {
        ...state,
        claims: new Map([...state.claims].filter(([id]) => id !== event.data.claimId)),
      };
    case 'gatehouse.events.v1.PolicyCreated':
    case 'gatehouse.events.v1.PolicyUpdated':
      return {
        ...state,
        policies: new Map([...state.policies, [event.data.policy!.id, event.data.policy!]]),
      };
    case 'gatehouse.events.v1.PolicyDeleted':
      return {
        ...state,
        policies: new Map([...state.policies].filter(([id]) => id !== event.data.policyId)),
      };
    case 'gatehouse.events.v1.RuleCreated':
    case 'gatehouse.events.v1.RuleUpdated':
      return {
        ...state,
        rules: new Map([...state.rules, [event.data.rule!.id, event.data.rule!]]),
      };
    case 'gatehouse.events.v1.RuleDeleted':
      return {
        ...state,
        rules: new Map([...state.rules].filter(([id]) => id !== event.data.ruleId)),
      };
  }
}
