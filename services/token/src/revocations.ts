// Revoking: the event first (the source of truth), then the entry every check reads, at once.
import { grantKeys, revocationWrite } from '@gatehouse/grants';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { TokenIssuer } from './token-issuer.js';

/** The longest an access token lives (a rule's maximum, 24 h) and some clock skew. */
const longestAccessTokenMs = (24 * 60 + 10) * 60_000;

export class Revocations {
  constructor(
    private readonly deps: { store: ProjectionStore; issuer: TokenIssuer; now: () => number },
  ) {}

  /** Every token of the grant and its refresh family. Lasts until the grant's last token is dead. */
  async revokeGrant(
    tenant: string,
    grantId: string,
    reason: 'refresh_token_revoked' | 'refresh_token_reused' | 'code_replayed',
    familyExpiresAt: number | null,
    causationId: string,
  ): Promise<void> {
    const now = this.deps.now();
    // A family that never ends by age is revoked for ten years: as good as for good.
    const family = familyExpiresAt ?? now + 10 * 365 * 24 * 3600_000;
    const expiresAt = Math.max(family, now + longestAccessTokenMs);
    await this.deps.issuer.append(tenant, grantId, causationId, {
      type: 'gatehouse.events.v1.GrantRevoked',
      data: { reason, expiresAt: new Date(expiresAt) },
    });
    await this.deps.store.write(
      revocationWrite(grantKeys.revokedGrant(tenant, grantId), reason, expiresAt, now),
    );
  }

  /** One access or ID token, until it would have expired. */
  async revokeToken(
    tenant: string,
    grantId: string,
    jti: string,
    expiresAt: number,
    causationId: string,
  ): Promise<void> {
    const now = this.deps.now();
    if (expiresAt <= now) return;
    await this.deps.issuer.append(tenant, grantId, causationId, {
      type: 'gatehouse.events.v1.TokenRevoked',
      data: { jti, expiresAt: new Date(expiresAt) },
    });
    await this.deps.store.write(
      revocationWrite(
        grantKeys.revokedToken(tenant, jti),
        new Date(now).toISOString(),
        expiresAt,
        now,
      ),
    );
  }
}
