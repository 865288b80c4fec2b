// client_credentials (RFC 6749 section 4.4): custom authorization servers only, a confidential client,
// no OpenID Connect scope, scopes allowed by the server's policy. An access token and nothing else.
import { evaluateAccessPolicy, newGrantId } from '@gatehouse/grants';
import { InvalidScope, UnauthorizedClient, UnsupportedGrantType } from '@gatehouse/http';
import { lifetimesOf } from '../token-issuer.js';
import {
  type GrantHandler,
  policyRefusal,
  requestedScopes,
  requireGrantType,
} from './grant-context.js';

export const clientCredentialsGrant: GrantHandler = async (request) => {
  const { config, authenticated, form } = request;
  if (!config.server)
    throw new UnsupportedGrantType(
      'client_credentials is supported by custom authorization servers only.',
    );
  requireGrantType(request, 'client_credentials');
  if (authenticated.method === 'none')
    throw new UnauthorizedClient('A public client cannot use client_credentials.');
  const scopes =
    requestedScopes(form) ??
    config.scopes.filter((scope) => scope.isDefault).map((scope) => scope.name);
  if (scopes.length === 0)
    throw new InvalidScope(
      "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
    );
  const decision = evaluateAccessPolicy({
    policies: config.policies,
    rules: config.rules,
    serverScopes: config.scopes,
    clientId: authenticated.client.id,
    grantType: 'client_credentials',
    requestedScopes: scopes,
  });
  if (!decision.allowed) throw policyRefusal(decision);
  return request.issuer.issue({
    config,
    client: authenticated.client,
    grantId: newGrantId(),
    grantType: 'client_credentials',
    scopes: decision.scopes,
    lifetimes: lifetimesOf(decision),
    causationId: request.requestId,
  });
};
