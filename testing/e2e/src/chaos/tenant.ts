// The chaos suite's tenant: a user with a password, two web apps (one to be deactivated mid-run),
// a service app with a custom scope for client credentials, all through the management API.
import { randomBytes } from 'node:crypto';
import { managementApi, password, untilSigningKeys } from '../suite.js';
import type { Target } from '../targets.js';
import type { ChaosTenant } from './load.js';

export async function newChaosTenant(target: Target, redirectUri: string): Promise<ChaosTenant> {
  const api = managementApi(target);
  const id = `chaos-${randomBytes(4).toString('hex')}`;
  const tenant = await api.ok('POST', '/api/v1/tenants', target.adminToken, { id, name: id });
  const apiToken = tenant.apiToken as string;
  const org = tenant.issuer as string;
  const path = new URL(org).pathname.replace(/\/$/, '');
  const as = (method: string, p: string, body?: unknown) =>
    api.ok(method, `${path}${p}`, apiToken, body);
  const login = 'grace@example.com';
  const user = await as('POST', '/api/v1/users?activate=true', {
    profile: { firstName: 'Grace', lastName: 'Hopper', email: login, login },
    credentials: { password: { value: password } },
  });
  const webApp = (name: string) =>
    as('POST', '/oauth2/v1/clients', {
      client_name: name,
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      consent_method: 'TRUSTED',
    });
  const web = await webApp('Chaos web app');
  const victim = await webApp('Chaos app to be deactivated');
  const service = await as('POST', '/oauth2/v1/clients', {
    client_name: 'Chaos service',
    application_type: 'service',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
  });
  for (const client of [web, victim])
    await as('PUT', `/api/v1/apps/${client.client_id as string}/users/${user.id as string}`);
  await as('POST', '/api/v1/authorizationServers/default/scopes', {
    name: 'chaos.read',
    description: 'Read chaos',
  });
  const issuer = `${org}/oauth2/default`;
  await untilSigningKeys(issuer);
  const secretOf = (client: Record<string, unknown>) => ({
    clientId: client.client_id as string,
    clientSecret: client.client_secret as string,
  });
  return {
    org,
    issuer,
    apiToken,
    login,
    password,
    web: secretOf(web),
    victim: secretOf(victim),
    service: secretOf(service),
    redirectUri,
  };
}
