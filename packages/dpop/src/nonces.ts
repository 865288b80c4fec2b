// Server-provided DPoP nonces (RFC 9449 section 8), as Okta's token endpoint requires them: a client
// whose proof has none (or a stale one) is answered `use_dpop_nonce` with a nonce in `DPoP-Nonce`,
// signs a new proof with it and sends the request again. A nonce limits how long a proof made in
// advance (on a compromised client, say) stays usable, whatever its `iat` claims.
//
// Stateless, so that every replica accepts every replica's nonces without a shared store: a nonce
// names its period (5 minutes by default) and carries an HMAC of it under a key derived from the
// key-encryption key (HKDF, its own label: the KEK itself is never used for anything else). A nonce
// is good in its period and the next; a neighbour period either way is accepted, for replicas whose
// clocks differ slightly. Nonces of any configured KEK are accepted, so rotating the KEK does not
// refuse the nonces given out just before.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyEncryptionKeys } from '@gatehouse/signing-keys';

export interface DpopNonceOptions {
  /** How long a nonce's period lasts. Default 5 minutes. */
  periodMs?: number;
  now?: () => number;
}

const label = 'gatehouse/dpop-nonce/v1';
const macBytes = 16;

export class DpopNonces {
  private readonly periodMs: number;
  private readonly now: () => number;
  /** The current KEK's nonce key first, then the others'. */
  private readonly keys: Buffer[];
  private cached: { period: number; nonce: string } | undefined;
  /** The nonces found good lately, by their period: most proofs carry one of those. */
  private readonly accepted = new Map<string, number>();

  constructor(keks: KeyEncryptionKeys, options: DpopNonceOptions = {}) {
    this.periodMs = options.periodMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, '', label, 32));
    this.keys = [
      derive(keks.current.key),
      ...[...keks.byId.values()]
        .filter((kek) => kek !== keks.current)
        .map((kek) => derive(kek.key)),
    ];
  }

  /** The nonce to give clients now. */
  current(): string {
    const period = Math.floor(this.now() / this.periodMs);
    if (this.cached?.period !== period)
      this.cached = {
        period,
        nonce: `${period.toString(36)}.${this.mac(this.keys[0]!, period).toString('base64url')}`,
      };
    return this.cached.nonce;
  }

  /** Whether a proof's nonce is one this deployment gave out lately. */
  valid(nonce: string): boolean {
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!match) return false;
    const period = Number.parseInt(match[1]!, 36);
    const current = Math.floor(this.now() / this.periodMs);
    if (period < current - 1 || period > current + 1) return false;
    if (this.accepted.get(nonce) === period) return true;
    const given = Buffer.from(match[2]!, 'base64url');
    if (!this.keys.some((key) => timingSafeEqual(this.mac(key, period), given))) return false;
    // A few periods' nonces per KEK at most: the map stays small.
    if (this.accepted.size >= 16) this.accepted.clear();
    this.accepted.set(nonce, period);
    return true;
  }

  private mac(key: Buffer, period: number): Buffer {
    return createHmac('sha256', key).update(String(period)).digest().subarray(0, macBytes);
  }
}
