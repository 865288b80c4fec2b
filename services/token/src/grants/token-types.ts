// The token type identifiers of RFC 8693 section 3 that token exchanges here take and issue, and
// Native SSO's device secret type (OpenID Connect Native SSO 1.0).
export const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
export const idTokenType = 'urn:ietf:params:oauth:token-type:id_token';
export const deviceSecretTokenType = 'urn:x-oath:params:oauth:token-type:device-secret';
