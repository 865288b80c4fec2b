// given(an authorization server's policies, rules and scopes).when(a request).then(its decision).
import { type Policy, type Rule, type Scope, ScopeConsent } from '@gatehouse/contracts';
import { defaultAccessPolicy, systemScope, systemScopes } from '@gatehouse/directory';
import { describe, expect, it } from 'vitest';
import { evaluateAccessPolicy } from './access-policy.js';
import { type PolicyDecision, type PolicyInput, policyEvaluationFailed } from './decision.js';

const everyone = '00gEveryone';
const engineering = '00gEngineering';
const ada = { id: '00uAda', groupIds: [everyone, engineering] };
const bob = { id: '00uBob', groupIds: [everyone] };

const oidcScopes: Scope[] = systemScopes.map((s, i) => systemScope(`scp${i}`, s.name));
const customScope = (name: string, more: Partial<Scope> = {}): Scope => ({
  id: `scp-${name}`,
  name,
  description: name,
  displayName: name,
  consent: ScopeConsent.SCOPE_CONSENT_IMPLICIT,
  isDefault: false,
  isOptional: false,
  metadataPublish: 'NO_CLIENTS',
  system: false,
  ...more,
});
const ordersRead = customScope('orders:read');
const ordersWrite = customScope('orders:write');
const serverScopes = [...oidcScopes, ordersRead, ordersWrite];

const policy = (id: string, more: Partial<Policy> = {}): Policy => ({
  id,
  name: `Policy ${id}`,
  description: '',
  priority: 1,
  status: 'ACTIVE',
  clientIds: ['ALL_CLIENTS'],
  ...more,
});
const rule = (id: string, policyId: string, more: Partial<Rule> = {}): Rule => ({
  id,
  policyId,
  name: `Rule ${id}`,
  priority: 1,
  status: 'ACTIVE',
  grantTypes: ['authorization_code', 'implicit', 'client_credentials'],
  userIds: [],
  groupIds: [everyone],
  scopes: ['*'],
  accessTokenLifetimeMinutes: 60,
  refreshTokenLifetimeMinutes: 129_600,
  refreshTokenWindowMinutes: 10_080,
  ...more,
});

type Server = Pick<PolicyInput, 'policies' | 'rules'> & { serverScopes?: readonly Scope[] };
type Request = Partial<Omit<PolicyInput, 'policies' | 'rules' | 'serverScopes'>>;

/** given(server).when(request): the decision, with what most tests leave alone filled in. */
function given(server: Server) {
  return {
    when(request: Request) {
      const decision: PolicyDecision = evaluateAccessPolicy({
        serverScopes,
        clientId: '0oaWeb',
        grantType: 'authorization_code',
        user: ada,
        requestedScopes: ['openid'],
        ...server,
        ...request,
      });
      return {
        decision,
        thenGrants(expected: { policyId?: string; ruleId?: string; scopes?: string[] } = {}) {
          expect(decision).toMatchObject({ allowed: true, ...expected });
        },
        thenDenies(error: 'access_denied' | 'invalid_scope', description?: string | RegExp) {
          expect(decision).toMatchObject({ allowed: false, error });
          if (description && !decision.allowed) expect(decision.description).toMatch(description);
        },
      };
    },
  };
}

const onePolicy = (rules: Rule[], more: Partial<Policy> = {}): Server => ({
  policies: [policy('p1', more)],
  rules,
});

describe('the default policy of a new tenant (SPEC section 2)', () => {
  const { policy: defaultPolicy, rule: defaultRule } = defaultAccessPolicy({
    policyId: 'pDefault',
    ruleId: 'rDefault',
    everyoneGroupId: everyone,
  });
  const server = { policies: [defaultPolicy], rules: [defaultRule] };

  it('given the default policy, when a user of the tenant asks for any scope, then access tokens last 60 min and refresh tokens 90 days', () => {
    const { decision } = given(server).when({
      requestedScopes: ['openid', 'profile', 'orders:read', 'offline_access'],
    });
    expect(decision).toEqual({
      allowed: true,
      policyId: 'pDefault',
      ruleId: 'rDefault',
      scopes: ['openid', 'profile', 'orders:read', 'offline_access'],
      accessTokenLifetimeSeconds: 3600,
      refreshTokenLifetimeSeconds: 90 * 24 * 3600,
      refreshTokenWindowSeconds: 7 * 24 * 3600,
    });
  });

  it('given the default policy, when a service asks with client_credentials, then it is granted', () => {
    given(server)
      .when({ grantType: 'client_credentials', user: undefined, requestedScopes: ['orders:read'] })
      .thenGrants({ scopes: ['orders:read'] });
  });
});

describe('which policy decides', () => {
  it('given two policies for the client, when it asks, then the one of priority 1 decides, whatever the input order', () => {
    given({
      policies: [policy('p2', { priority: 2 }), policy('p1', { priority: 1 })],
      rules: [rule('r2', 'p2'), rule('r1', 'p1')],
    })
      .when({})
      .thenGrants({ policyId: 'p1', ruleId: 'r1' });
  });

  it('given equal priorities, when evaluated, then the lower id goes first, so the read model order never matters', () => {
    given({
      policies: [policy('pB'), policy('pA')],
      rules: [rule('rB', 'pB'), rule('rA', 'pA')],
    })
      .when({})
      .thenGrants({ policyId: 'pA' });
  });

  it('given a policy naming other clients first, when a client it does not name asks, then the ALL_CLIENTS policy decides', () => {
    given({
      policies: [
        policy('pMobile', { priority: 1, clientIds: ['0oaMobile'] }),
        policy('pAll', { priority: 2, clientIds: ['ALL_CLIENTS'] }),
      ],
      rules: [rule('rMobile', 'pMobile'), rule('rAll', 'pAll')],
    })
      .when({ clientId: '0oaWeb' })
      .thenGrants({ policyId: 'pAll' });
  });

  it('given a policy naming the client, when that client asks, then that policy decides', () => {
    given({
      policies: [
        policy('pWeb', { priority: 1, clientIds: ['0oaMobile', '0oaWeb'] }),
        policy('pAll', { priority: 2 }),
      ],
      rules: [rule('rWeb', 'pWeb'), rule('rAll', 'pAll')],
    })
      .when({ clientId: '0oaWeb' })
      .thenGrants({ policyId: 'pWeb', ruleId: 'rWeb' });
  });

  it('given the first policy of the client has no rule for the request, when it asks, then it is denied although a later policy would allow it', () => {
    const { decision } = given({
      policies: [policy('p1', { priority: 1 }), policy('p2', { priority: 2 })],
      rules: [rule('r1', 'p1', { grantTypes: ['implicit'] }), rule('r2', 'p2')],
    }).when({ grantType: 'authorization_code' });
    expect(decision).toMatchObject({
      allowed: false,
      error: 'access_denied',
      description: policyEvaluationFailed,
    });
    if (!decision.allowed) expect(decision.detail).toContain('p1');
  });

  it('given an inactive policy of priority 1, when the client asks, then the next active one decides', () => {
    given({
      policies: [policy('p1', { status: 'INACTIVE' }), policy('p2', { priority: 2 })],
      rules: [rule('r1', 'p1'), rule('r2', 'p2')],
    })
      .when({})
      .thenGrants({ policyId: 'p2' });
  });

  it('given no policy governs the client, when it asks, then it is denied in Okta words, with the reason kept for the log', () => {
    const { decision } = given({
      policies: [policy('p1', { clientIds: ['0oaMobile'] })],
      rules: [rule('r1', 'p1')],
    }).when({ clientId: '0oaWeb' });
    expect(decision).toEqual({
      allowed: false,
      error: 'access_denied',
      description:
        'Policy evaluation failed for this request, please check the policy configurations.',
      detail: 'No active access policy of this authorization server applies to client 0oaWeb.',
    });
  });

  it('given a server with no policy at all, when a client asks, then it is denied', () => {
    given({ policies: [], rules: [] }).when({}).thenDenies('access_denied', policyEvaluationFailed);
  });
});

describe('which rule decides', () => {
  it('given two matching rules, when a request matches both, then the one of priority 1 gives the lifetimes', () => {
    const { decision } = given(
      onePolicy([
        rule('rSlow', 'p1', { priority: 2, accessTokenLifetimeMinutes: 1440 }),
        rule('rFast', 'p1', { priority: 1, accessTokenLifetimeMinutes: 5 }),
      ]),
    ).when({});
    expect(decision).toMatchObject({ ruleId: 'rFast', accessTokenLifetimeSeconds: 300 });
  });

  it('given the first rule is inactive, when a request matches it, then the next active rule decides', () => {
    given(onePolicy([rule('r1', 'p1', { status: 'INACTIVE' }), rule('r2', 'p1', { priority: 2 })]))
      .when({})
      .thenGrants({ ruleId: 'r2' });
  });

  it('given only inactive rules, when a request comes, then it is denied', () => {
    given(onePolicy([rule('r1', 'p1', { status: 'INACTIVE' })]))
      .when({})
      .thenDenies('access_denied');
  });

  it('given a rule of another policy, when the governing policy has none, then that rule is not used', () => {
    given({
      policies: [policy('p1'), policy('p2', { priority: 2, status: 'INACTIVE' })],
      rules: [rule('r2', 'p2')],
    })
      .when({})
      .thenDenies('access_denied');
  });

  it('given a rule that lets refresh tokens live forever, when it grants, then the refresh lifetime is null (unlimited)', () => {
    const { decision } = given(
      onePolicy([
        rule('r1', 'p1', {
          accessTokenLifetimeMinutes: 30,
          refreshTokenLifetimeMinutes: 0,
          refreshTokenWindowMinutes: 60,
        }),
      ]),
    ).when({});
    expect(decision).toMatchObject({
      accessTokenLifetimeSeconds: 1800,
      refreshTokenLifetimeSeconds: null,
      refreshTokenWindowSeconds: 3600,
    });
  });
});

describe('grant types', () => {
  const codeOnly = onePolicy([rule('r1', 'p1', { grantTypes: ['authorization_code'] })]);
  const implicitOnly = onePolicy([rule('r1', 'p1', { grantTypes: ['implicit'] })]);

  it('given a rule for authorization_code only, when implicit or client_credentials ask, then they are denied', () => {
    given(codeOnly).when({ grantType: 'authorization_code' }).thenGrants();
    given(codeOnly).when({ grantType: 'implicit' }).thenDenies('access_denied');
    given(codeOnly)
      .when({ grantType: 'client_credentials', user: undefined, requestedScopes: ['orders:read'] })
      .thenDenies('access_denied');
  });

  it('given a rule for implicit only, when implicit asks, then it is granted', () => {
    given(implicitOnly).when({ grantType: 'implicit' }).thenGrants();
  });

  it('given a rule for authorization_code, when a refresh comes, then it is granted, as it continues that grant', () => {
    given(codeOnly).when({ grantType: 'refresh_token' }).thenGrants();
  });

  it('given a rule for implicit only, when a refresh comes, then it is denied: implicit issues no refresh token', () => {
    given(implicitOnly).when({ grantType: 'refresh_token' }).thenDenies('access_denied');
  });

  it('given rules without password, when the password grant asks, then it is denied; a rule listing password allows it', () => {
    given(codeOnly).when({ grantType: 'password' }).thenDenies('access_denied');
    given(onePolicy([rule('r1', 'p1', { grantTypes: ['password'] })]))
      .when({ grantType: 'password' })
      .thenGrants();
    given(onePolicy([rule('r1', 'p1', { grantTypes: ['password'] })]))
      .when({ grantType: 'refresh_token' })
      .thenGrants();
  });
});

describe('people', () => {
  it("given a rule for Okta's literal EVERYONE, when any user of the tenant asks, then it is granted, even one of no group", () => {
    const server = onePolicy([rule('r1', 'p1', { groupIds: ['EVERYONE'] })]);
    given(server).when({ user: ada }).thenGrants();
    given(server)
      .when({ user: { id: '00uLone', groupIds: [] } })
      .thenGrants();
    given(server)
      .when({ grantType: 'client_credentials', user: undefined, requestedScopes: ['orders:read'] })
      .thenGrants();
  });

  it('given a rule for a group, when a member asks, then it is granted; when a non-member asks, then it is denied', () => {
    const server = onePolicy([rule('r1', 'p1', { groupIds: [engineering] })]);
    given(server).when({ user: ada }).thenGrants();
    given(server).when({ user: bob }).thenDenies('access_denied');
  });

  it('given a rule for a user, when that user asks, then it is granted, whatever the groups', () => {
    const server = onePolicy([rule('r1', 'p1', { userIds: [bob.id], groupIds: [] })]);
    given(server).when({ user: bob }).thenGrants();
    given(server).when({ user: ada }).thenDenies('access_denied');
  });

  it('given a rule for Everyone, when any user of the tenant asks, then it is granted', () => {
    given(onePolicy([rule('r1', 'p1')]))
      .when({ user: bob })
      .thenGrants();
  });

  it('given a rule naming nobody, when a user asks, then it is denied', () => {
    given(onePolicy([rule('r1', 'p1', { userIds: [], groupIds: [] })]))
      .when({ user: ada })
      .thenDenies('access_denied');
  });

  it('given a user flow without a user, when evaluated, then no rule matches', () => {
    given(onePolicy([rule('r1', 'p1')]))
      .when({ user: undefined })
      .thenDenies('access_denied');
  });

  it('given a rule for a group, when client_credentials asks, then the people condition does not apply', () => {
    given(onePolicy([rule('r1', 'p1', { userIds: [], groupIds: [engineering] })]))
      .when({ grantType: 'client_credentials', user: undefined, requestedScopes: ['orders:read'] })
      .thenGrants();
  });

  it('given the first rule is for another group, when a user asks, then a later rule for them decides', () => {
    given(
      onePolicy([
        rule('rEng', 'p1', { priority: 1, groupIds: [engineering] }),
        rule('rAll', 'p1', { priority: 2, groupIds: [everyone] }),
      ]),
    )
      .when({ user: bob })
      .thenGrants({ ruleId: 'rAll' });
  });
});

describe('scopes', () => {
  const readers = onePolicy([rule('r1', 'p1', { scopes: ['orders:read'] })]);

  it('given a rule with *, when any defined scope is asked, then all are granted', () => {
    given(onePolicy([rule('r1', 'p1', { scopes: ['*'] })]))
      .when({ requestedScopes: ['orders:read', 'orders:write'] })
      .thenGrants({ scopes: ['orders:read', 'orders:write'] });
  });

  it('given a rule listing orders:read, when orders:read is asked, then it is granted', () => {
    given(readers)
      .when({ requestedScopes: ['orders:read'] })
      .thenGrants({ scopes: ['orders:read'] });
  });

  it('given a rule listing orders:read, when orders:write is asked too, then the request is denied', () => {
    given(readers)
      .when({ requestedScopes: ['orders:read', 'orders:write'] })
      .thenDenies('access_denied', policyEvaluationFailed);
  });

  it('given a rule listing no OpenID Connect scope, when all of them are asked, then they are granted by default (seed 001)', () => {
    const oidc = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];
    given(readers)
      .when({ requestedScopes: [...oidc, 'orders:read'] })
      .thenGrants({ scopes: [...oidc, 'orders:read'] });
    given(readers).when({ requestedScopes: oidc }).thenGrants({ scopes: oidc });
  });

  it('given a later rule allows more scopes, when they are asked, then the first rule that covers them decides', () => {
    given(
      onePolicy([
        rule('rRead', 'p1', { priority: 1, scopes: ['orders:read'] }),
        rule('rWrite', 'p1', { priority: 2, scopes: ['orders:read', 'orders:write'] }),
      ]),
    )
      .when({ requestedScopes: ['orders:write'] })
      .thenGrants({ ruleId: 'rWrite' });
  });

  it('given duplicates and doubled spaces, when asked, then each scope is granted once, in the order first asked', () => {
    given(readers)
      .when({ requestedScopes: ['orders:read', 'openid', '', 'orders:read', 'openid'] })
      .thenGrants({ scopes: ['orders:read', 'openid'] });
  });

  it('given a scope the server does not define, when asked, then invalid_scope names it, before any policy is read', () => {
    const { decision } = given({ policies: [], rules: [] }).when({
      requestedScopes: ['openid', 'payroll', 'orders:read', 'hr'],
    });
    expect(decision).toMatchObject({
      allowed: false,
      error: 'invalid_scope',
      description:
        'One or more scopes are not configured for the authorization server resource: payroll, hr.',
    });
  });

  it('given the reserved groups scope is not defined on a custom server, when asked, then it is invalid_scope', () => {
    given(readers)
      .when({ requestedScopes: ['openid', 'groups'] })
      .thenDenies('invalid_scope');
  });

  it('given default scopes, when no scope is asked, then the default scopes are evaluated', () => {
    given({
      ...readers,
      serverScopes: [...oidcScopes, customScope('orders:read', { isDefault: true }), ordersWrite],
    })
      .when({ requestedScopes: [] })
      .thenGrants({ scopes: ['orders:read'] });
  });

  it('given no default scope, when no scope is asked, then invalid_scope says a scope must be provided', () => {
    given(readers)
      .when({ requestedScopes: [] })
      .thenDenies('invalid_scope', "'scope' must be provided");
  });

  it('given a scope that requires consent, when a user flow asks for it, then the policy grants it (consent is asked at /authorize)', () => {
    given({
      ...readers,
      serverScopes: [
        ...oidcScopes,
        customScope('orders:read', { consent: ScopeConsent.SCOPE_CONSENT_REQUIRED }),
      ],
    })
      .when({ requestedScopes: ['openid', 'orders:read'] })
      .thenGrants();
  });
});

describe('client_credentials', () => {
  const service = { grantType: 'client_credentials', user: undefined } as const;
  const server = onePolicy([rule('r1', 'p1')]);

  it('given a custom scope, when a service asks for it, then it is granted', () => {
    given(server)
      .when({ ...service, requestedScopes: ['orders:read'] })
      .thenGrants({ scopes: ['orders:read'] });
  });

  it('given any rule, when a service asks for openid, then invalid_scope: there is no user (SPEC section 5)', () => {
    given(server)
      .when({ ...service, requestedScopes: ['openid', 'orders:read'] })
      .thenDenies(
        'invalid_scope',
        'The client_credentials grant cannot request OpenID Connect scopes (openid): it has no user.',
      );
  });

  it('given any rule, when a service asks for another OpenID Connect scope, then invalid_scope names it', () => {
    given(server)
      .when({ ...service, requestedScopes: ['orders:read', 'profile', 'offline_access'] })
      .thenDenies('invalid_scope', '(profile, offline_access)');
  });

  it('given a scope whose consent is REQUIRED, when a service asks for it, then invalid_scope (seed 001)', () => {
    given({
      ...server,
      serverScopes: [
        ...oidcScopes,
        customScope('orders:read', { consent: ScopeConsent.SCOPE_CONSENT_REQUIRED }),
      ],
    })
      .when({ ...service, requestedScopes: ['orders:read'] })
      .thenDenies('invalid_scope', 'require user consent (orders:read)');
  });

  it('given a scope whose consent is FLEXIBLE, when a service asks for it, then it is granted without a prompt (seed 001)', () => {
    given({
      ...server,
      serverScopes: [
        ...oidcScopes,
        customScope('orders:read', { consent: ScopeConsent.SCOPE_CONSENT_FLEXIBLE }),
      ],
    })
      .when({ ...service, requestedScopes: ['orders:read'] })
      .thenGrants();
  });

  it('given an unknown scope and openid, when a service asks, then the unknown scope is reported first', () => {
    given(server)
      .when({ ...service, requestedScopes: ['openid', 'payroll'] })
      .thenDenies('invalid_scope', 'not configured for the authorization server resource: payroll');
  });
});

describe('the device authorization grant (RFC 8628)', () => {
  const device = 'urn:ietf:params:oauth:grant-type:device_code' as const;

  it('given only the default rule, when a device asks, then access_denied (a rule must list the grant, as at Okta)', () => {
    given(onePolicy([rule('r1', 'p1')]))
      .when({ grantType: device })
      .thenDenies('access_denied');
  });

  it('given a rule listing it, when a device asks for the user, then it is granted by that rule, and its refresh tokens refresh', () => {
    const server = onePolicy([
      rule('r1', 'p1'),
      rule('r2', 'p1', { priority: 2, grantTypes: [device] }),
    ]);
    given(server).when({ grantType: device }).thenGrants({ ruleId: 'r2' });
    given(onePolicy([rule('r2', 'p1', { grantTypes: [device] })]))
      .when({ grantType: 'refresh_token' })
      .thenGrants({ ruleId: 'r2' });
  });
});
