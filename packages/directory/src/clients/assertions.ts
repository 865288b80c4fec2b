// What a client's signed assertion (private_key_jwt, RFC 7523) may be: the token service verifies
// by it and discovery advertises it, so both read it here.

/** The signature algorithms of a private_key_jwt assertion (FAPI 2.0 allows PS256 and ES256). */
export const clientAssertionAlgorithms = ['RS256', 'PS256', 'ES256'] as const;

/** The client authentication methods of /token, /introspect and /revoke. */
export const clientAuthenticationMethods = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
