// The device authorization grant (RFC 8628) as flow state: what a device code stands for from
// /v1/device/authorize, through the user's decision on the verification page, to its redemption at
// /token. Both codes are kept only as SHA-256; the user code is hashed in its normalised form, so
// that `abcd efgh`, `ABCD-EFGH` and `abcdefgh` name the same code.
import { randomBytes, randomInt } from 'node:crypto';

export const deviceCodeGrantType = 'urn:ietf:params:oauth:grant-type:device_code';
/** How long a device code and its user code live (Okta: 10 minutes). */
export const deviceCodeLifetimeSeconds = 600;
/** The polling interval a device is given (RFC 8628 section 3.2 suggests 5 s). */
export const devicePollIntervalSeconds = 5;
/** What a poll faster than the interval adds to it (RFC 8628 section 3.5). */
export const slowDownStepSeconds = 5;
/**
 * How long a device authorization is remembered past its expiry: a late poll is told expired_token
 * (not invalid_grant), and a redeemed code shown again is known for a replay.
 */
export const deviceRecordRetentionMs = 3600_000;

/**
 * RFC 8628 section 6.1: consonants only (no vowels, so no words; no 0/O, 1/I/L confusions among
 * what is left), 20 characters: 8 of them are 34.6 bits.
 */
export const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';
export const userCodeLength = 8;

/** A fresh user code, normalised (8 characters of the alphabet, no separator). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < userCodeLength; i += 1)
    code += userCodeAlphabet[randomInt(userCodeAlphabet.length)];
  return code;
}

/** A normalised user code as people read it: `BCDF-GHJK`. */
export const displayUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/**
 * What a person typed, normalised (case, spaces and dashes ignored), or undefined when it cannot be
 * a user code at all (such an entry is still counted by the page's throttle).
 */
export function normalizeUserCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== userCodeLength) return undefined;
  for (const c of code) if (!userCodeAlphabet.includes(c)) return undefined;
  return code;
}

/** A fresh device code: 256 random bits, base64url. */
export const newDeviceCode = () => randomBytes(32).toString('base64url');

/** What the user decided on the verification page, and what the policy granted then. */
export interface DeviceApproval {
  userId: string;
  /** The scopes the policy granted, for the user. */
  scopes: string[];
  /** epoch seconds */
  authTime: number;
  amr: string[];
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number | null;
  refreshTokenWindowSeconds: number;
}

/** A device authorization, at grantKeys.deviceCode. */
export interface DeviceAuthorization {
  grantId: string;
  serverId: string;
  clientId: string;
  /** As the device asked (the policy decides, for the user, on approval). */
  scopes: string[];
  state: 'pending' | 'approved' | 'denied' | 'redeemed';
  /**
   * The binding digest (SPEC section 6): of the server and client when issued, of the server,
   * client and user once approved. Once it differs from the current one, the code is dead.
   */
  bindingDigest: string;
  /** epoch ms */
  expiresAt: number;
  userCodeSha256: string;
  /** Set once approved. */
  approval?: DeviceApproval;
}

/** A poll's memory (RFC 8628 section 3.5): when the device last polled, and its interval now. */
export interface DevicePoll {
  /** epoch ms */
  at: number;
  intervalSeconds: number;
}
