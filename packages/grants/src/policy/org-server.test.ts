import { describe, expect, it } from 'vitest';
import { orgServerDecision } from './org-server.js';

describe('the org authorization server', () => {
  it('given the reserved scopes, when they are asked, then they are granted with the fixed lifetimes of seed 001', () => {
    const scopes = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'groups'];
    expect(orgServerDecision(scopes)).toEqual({
      allowed: true,
      policyId: '',
      ruleId: '',
      scopes,
      accessTokenLifetimeSeconds: 60 * 60,
      refreshTokenLifetimeSeconds: 90 * 24 * 60 * 60,
      refreshTokenWindowSeconds: 7 * 24 * 60 * 60,
    });
  });

  it('given duplicates, when asked, then each scope is granted once', () => {
    expect(orgServerDecision(['openid', 'email', 'openid'])).toMatchObject({
      scopes: ['openid', 'email'],
    });
  });

  it('given a custom scope, when asked, then invalid_scope names it: only custom servers have custom scopes', () => {
    const decision = orgServerDecision(['openid', 'orders:read']);
    expect(decision).toMatchObject({
      allowed: false,
      error: 'invalid_scope',
      description:
        'One or more scopes are not configured for the authorization server resource: orders:read.',
    });
    if (!decision.allowed) expect(decision.detail).toContain('custom authorization server');
  });

  it('given no scope, when asked, then invalid_scope says a scope must be provided', () => {
    expect(orgServerDecision([])).toMatchObject({ allowed: false, error: 'invalid_scope' });
  });
});
