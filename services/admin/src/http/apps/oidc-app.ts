// Okta's `oidc_client` app model over a client: reading an app from a request into the RFC 7591
// registration fields the client domain reads, and presenting a client as an app.
import type { ClientView, FieldProblem } from '@gatehouse/directory';

/** Okta's app-model path of each RFC 7591 field, for error causes that name what was sent. */
const appFieldOf: Record<string, string> = {
  client_name: 'label',
  token_endpoint_auth_method: 'credentials.oauthClient.token_endpoint_auth_method',
  redirect_uris: 'settings.oauthClient.redirect_uris',
  post_logout_redirect_uris: 'settings.oauthClient.post_logout_redirect_uris',
  response_types: 'settings.oauthClient.response_types',
  grant_types: 'settings.oauthClient.grant_types',
  application_type: 'settings.oauthClient.application_type',
  consent_method: 'settings.oauthClient.consent_method',
  jwks: 'settings.oauthClient.jwks',
  jwks_uri: 'settings.oauthClient.jwks_uri',
  require_pushed_authorization_requests:
    'settings.oauthClient.require_pushed_authorization_requests',
  dpop_bound_access_tokens: 'settings.oauthClient.dpop_bound_access_tokens',
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The RFC 7591 fields an app body stands for, or the problems that make it no OpenID Connect app.
 * `consentMethod`: what an absent `settings.oauthClient.consent_method` means (TRUSTED for a new
 * app, seed 001; the app's own for a replacement, so that leaving it out never loosens consent).
 * `id`: the app a replacement is for; a different `client_id` is refused, and a custom one on
 * creation too (client ids are the server's).
 */
export function registrationOf(
  body: Record<string, unknown>,
  options: { consentMethod: string; id?: string },
): { registration?: Record<string, unknown>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const name = body.name;
  if (name !== undefined && name !== 'oidc_client')
    problems.push({
      field: 'name',
      message: `${JSON.stringify(name).slice(0, 100)} apps are not supported: Gatehouse hosts OpenID Connect apps only (name "oidc_client", signOnMode "OPENID_CONNECT")`,
    });
  const signOnMode = body.signOnMode;
  if (signOnMode !== undefined && signOnMode !== 'OPENID_CONNECT')
    problems.push({
      field: 'signOnMode',
      message: `${JSON.stringify(signOnMode).slice(0, 100)} is not supported: only "OPENID_CONNECT" is`,
    });
  if (problems.length > 0) return { problems };
  if (name === undefined)
    problems.push({ field: 'name', message: '\'name\' is required: "oidc_client"' });
  const credentials = body.credentials ?? {};
  const settings = body.settings ?? {};
  if (!isObject(credentials))
    problems.push({ field: 'credentials', message: "'credentials' must be an object" });
  if (!isObject(settings))
    problems.push({ field: 'settings', message: "'settings' must be an object" });
  const oauthCredentials = isObject(credentials) ? (credentials.oauthClient ?? {}) : {};
  const oauthSettings = isObject(settings) ? settings.oauthClient : {};
  if (!isObject(oauthCredentials))
    problems.push({
      field: 'credentials.oauthClient',
      message: "'credentials.oauthClient' must be an object",
    });
  if (!isObject(oauthSettings))
    problems.push({
      field: 'settings.oauthClient',
      message: "'settings.oauthClient' is required and must be an object",
    });
  if (!isObject(oauthCredentials) || !isObject(oauthSettings)) return { problems };
  const clientId = oauthCredentials.client_id;
  if (clientId !== undefined && clientId !== null && clientId !== options.id)
    problems.push({
      field: 'credentials.oauthClient.client_id',
      message: options.id
        ? "'client_id' cannot be changed"
        : "a custom 'client_id' is not supported: the server chooses it",
    });
  if (problems.length > 0) return { problems };
  return {
    problems,
    registration: {
      client_name: body.label,
      token_endpoint_auth_method: oauthCredentials.token_endpoint_auth_method,
      redirect_uris: oauthSettings.redirect_uris,
      post_logout_redirect_uris: oauthSettings.post_logout_redirect_uris,
      response_types: oauthSettings.response_types,
      grant_types: oauthSettings.grant_types,
      application_type: oauthSettings.application_type,
      consent_method: oauthSettings.consent_method ?? options.consentMethod,
      jwks: oauthSettings.jwks,
      jwks_uri: oauthSettings.jwks_uri,
      require_pushed_authorization_requests: oauthSettings.require_pushed_authorization_requests,
      dpop_bound_access_tokens: oauthSettings.dpop_bound_access_tokens,
    },
  };
}

/**
 * The client domain's problems, named as the app model names their fields: in messages too, where
 * one names another field ("'jwks' or 'jwks_uri'").
 */
export function appProblems(problems: readonly FieldProblem[]): FieldProblem[] {
  return problems.map(({ field, message }) => ({
    field: appFieldOf[field] ?? field,
    message: Object.entries(appFieldOf).reduce(
      (named, [rfcField, appField]) => named.replaceAll(`'${rfcField}'`, `'${appField}'`),
      message,
    ),
  }));
}

/** A client as Okta's `oidc_client` app; `secret` only when it was just made (it is not kept). */
export function presentApp(client: ClientView, orgBase: string, secret?: string) {
  const { metadata } = client;
  const self = `${orgBase}/api/v1/apps/${client.id}`;
  const lifecycle = client.status === 'ACTIVE' ? 'deactivate' : 'activate';
  return {
    id: client.id,
    name: 'oidc_client',
    label: metadata.clientName,
    status: client.status,
    created: client.created,
    lastUpdated: client.lastUpdated,
    accessibility: { selfService: false, errorRedirectUrl: null, loginRedirectUrl: null },
    visibility: {
      autoSubmitToolbar: false,
      hide: { iOS: true, web: true },
      appLinks: { oidc_client_link: true },
    },
    features: [],
    signOnMode: 'OPENID_CONNECT',
    credentials: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Okta's expression, not a template
      userNameTemplate: { template: '${source.login}', type: 'BUILT_IN' },
      oauthClient: {
        autoKeyRotation: true,
        client_id: client.id,
        ...(secret ? { client_secret: secret } : {}),
        token_endpoint_auth_method: metadata.tokenEndpointAuthMethod,
      },
    },
    settings: {
      app: {},
      notifications: { vpn: { network: { connection: 'DISABLED' } } },
      oauthClient: {
        redirect_uris: metadata.redirectUris,
        post_logout_redirect_uris: metadata.postLogoutRedirectUris,
        response_types: metadata.responseTypes,
        grant_types: metadata.grantTypes,
        application_type: metadata.applicationType,
        consent_method: metadata.consentMethod,
        issuer_mode: 'ORG_URL',
        // A private_key_jwt app's keys, where @okta/okta-sdk-nodejs reads them.
        ...(metadata.jwks ? { jwks: JSON.parse(metadata.jwks) } : {}),
        ...(metadata.jwksUri ? { jwks_uri: metadata.jwksUri } : {}),
        require_pushed_authorization_requests: metadata.requirePushedAuthorizationRequests,
        dpop_bound_access_tokens: metadata.dpopBoundAccessTokens,
      },
    },
    _links: {
      self: { href: self },
      users: { href: `${self}/users` },
      groups: { href: `${self}/groups` },
      [lifecycle]: { href: `${self}/lifecycle/${lifecycle}`, hints: { allow: ['POST'] } },
    },
  };
}
