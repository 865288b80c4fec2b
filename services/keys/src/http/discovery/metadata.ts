// The discovery documents (SPEC section 2; seed 000 "Get OpenID Connect Metadata"): what Gatehouse
// implements and nothing more, for the org server and for custom servers. `issuer` is byte for byte
// the `iss` of the server's tokens.

import {
  clientAssertionAlgorithms,
  authMethods as clientAuthenticationMethods,
  clientSecretAssertionAlgorithms,
  endpointsBase,
  issuerOf,
  orgBaseUrl,
  responseTypes,
  type TenancyConfig,
  tokenExchangeGrantType,
} from '@gatehouse/directory';
import { dpopSigningAlgorithms } from '@gatehouse/dpop';

export interface ServerMetadataInput {
  tenancy: TenancyConfig;
  tenant: string;
  /** Undefined for the org authorization server. */
  serverId?: string;
  /** Scopes a custom server publishes (metadataPublish ALL_CLIENTS); the org server's are fixed. */
  publishedScopes?: readonly string[];
}

/** Claims Gatehouse puts in ID tokens: seed 000's list and the ones seed 001 adds. */
const claimsSupported = [
  'iss',
  'sub',
  'aud',
  'iat',
  'exp',
  'auth_time',
  'amr',
  'idp',
  'nonce',
  'ver',
  'jti',
  'at_hash',
  'c_hash',
  'name',
  'nickname',
  'preferred_username',
  'given_name',
  'middle_name',
  'family_name',
  'email',
  'email_verified',
  'profile',
  'zoneinfo',
  'locale',
  'address',
  'phone_number',
  'updated_at',
];

const orgScopes = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];
const clientAuthMethods = [...clientAuthenticationMethods];
const assertionAlgorithms = [...clientAssertionAlgorithms, ...clientSecretAssertionAlgorithms];

/** `kind`: `openid-configuration` (OpenID Connect Discovery) or `oauth-authorization-server` (RFC 8414). */
export function serverMetadata(
  input: ServerMetadataInput,
  kind: 'openid-configuration' | 'oauth-authorization-server',
): Record<string, unknown> {
  const issuer = issuerOf(input.tenancy, input.tenant, input.serverId);
  const orgBase = orgBaseUrl(input.tenancy, input.tenant);
  const custom = input.serverId !== undefined;
  const endpoints = endpointsBase(issuer, custom);
  const openid = kind === 'openid-configuration';
  return {
    issuer,
    authorization_endpoint: `${endpoints}/authorize`,
    token_endpoint: `${endpoints}/token`,
    ...(openid ? { userinfo_endpoint: `${endpoints}/userinfo` } : {}),
    registration_endpoint: `${orgBase}/oauth2/v1/clients`,
    jwks_uri: `${endpoints}/keys`,
    response_types_supported: [...responseTypes],
    response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
    grant_types_supported: [
      'authorization_code',
      'implicit',
      'refresh_token',
      ...(custom ? ['client_credentials'] : []),
      // RFC 8693: on-behalf-of exchanges (custom servers) and Native SSO (every server).
      tokenExchangeGrantType,
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    ...(openid ? { subject_types_supported: ['public'] } : {}),
    ...(openid ? { id_token_signing_alg_values_supported: ['RS256'] } : {}),
    scopes_supported: custom ? [...(input.publishedScopes ?? [])] : orgScopes,
    token_endpoint_auth_methods_supported: clientAuthMethods,
    token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    ...(openid ? { claims_supported: claimsSupported } : {}),
    code_challenge_methods_supported: ['S256'],
    introspection_endpoint: `${endpoints}/introspect`,
    introspection_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    revocation_endpoint: `${endpoints}/revoke`,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    end_session_endpoint: `${endpoints}/logout`,
    // RFC 9126: pushed authorization requests, required of the clients registered for them only.
    pushed_authorization_request_endpoint: `${endpoints}/par`,
    require_pushed_authorization_requests: false,
    // RFC 8628: the device authorization grant; the user enters the code on {org}/activate.
    device_authorization_endpoint: `${endpoints}/device/authorize`,
    // RFC 9449: DPoP proofs at the token endpoint bind its tokens to the client's key.
    dpop_signing_alg_values_supported: [...dpopSigningAlgorithms],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
  };
}
