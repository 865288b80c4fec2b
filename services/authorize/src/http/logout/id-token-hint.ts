// The id_token_hint of a logout: an ID token of this server, signed by one of its keys.

import { TokenInvalidError, verifyJwt } from '@gatehouse/jwt';
import type { KeyRing } from '@gatehouse/signing-keys';

/** The hint's claims, or undefined when it is not one; expired ones are fine (a hint). */
export async function verifyIdTokenHint(
  ring: KeyRing,
  hint: string,
  tenant: string,
  serverId: string,
  issuer: string,
): Promise<{ aud: string; sub: string } | undefined> {
  const payload = hint.split('.')[1];
  let unverified: Record<string, unknown>;
  try {
    unverified = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof unverified.aud !== 'string' || typeof unverified.iat !== 'number') return undefined;
  try {
    const { claims } = verifyJwt(hint, {
      keys: await ring.verificationKeys(tenant, serverId),
      issuer,
      audience: unverified.aud,
      // As of when it was issued: a hint may have expired since.
      now: () => (unverified.iat as number) * 1000,
    });
    if (typeof claims.jti !== 'string' || !claims.jti.startsWith('ID.')) return undefined;
    return claims as { aud: string; sub: string };
  } catch (error) {
    if (error instanceof TokenInvalidError) return undefined;
    throw error;
  }
}
