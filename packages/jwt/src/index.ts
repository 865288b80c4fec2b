export { isBase64url } from './base64url.js';
export {
  jwkThumbprint,
  type PublicJwk,
  publicJwkOf,
  publicKeyFromJwk,
  type RsaJwkInput,
} from './jwk.js';
export { MIN_RSA_MODULUS_BITS } from './rsa-keys.js';
export { type SigningKey, type SignOptions, signJwt } from './sign.js';
export { TokenInvalidError, type TokenInvalidReason } from './token-invalid-error.js';
export { MAX_TOKEN_LENGTH, type VerifiedJwt, type VerifyOptions, verifyJwt } from './verify.js';
