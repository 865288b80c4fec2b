// The system API (tenants) takes `Authorization: SSWS {GATEHOUSE_ADMIN_TOKEN}`. Only the token's
// SHA-256 is kept, and the comparison takes the same time whatever the input.
import { createHash, timingSafeEqual } from 'node:crypto';
import { OktaApiError } from '@gatehouse/http';
import type { Middleware } from 'koa';

export function requireSystemToken(adminTokenSha256: string): Middleware {
  const expected = Buffer.from(adminTokenSha256, 'hex');
  return async (ctx, next) => {
    const match = /^SSWS ([\x21-\x7e]{1,512})$/.exec(ctx.get('authorization'));
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (!match || !timingSafeEqual(given, expected)) throw OktaApiError.invalidToken();
    await next();
  };
}
