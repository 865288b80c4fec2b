// Strict base64url (RFC 4648 section 5, unpadded, canonical). Buffer's own decoder skips characters
// outside the alphabet and ignores trailing bits, which would let many strings decode to the same
// bytes; a token accepted in one spelling must not be accepted in another.

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** The 6-bit value of a base64url character already known to be in the alphabet. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z: 26..51
  if (code >= 65) return code - 65; // A-Z: 0..25
  if (code >= 48) return code + 4; // 0-9: 52..61
  return code === 45 ? 62 : 63; // '-' or '_'
}

/** True when `text` is unpadded base64url with no stray characters and zero trailing bits. */
export function isBase64url(text: string): boolean {
  const remainder = text.length % 4;
  if (remainder === 1 || !ALPHABET.test(text)) return false;
  if (remainder === 0) return true;
  // 2 characters carry 1 byte (4 spare bits), 3 characters carry 2 bytes (2 spare bits).
  const last = sextet(text.charCodeAt(text.length - 1));
  return (last & (remainder === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Decodes strict base64url, or gives undefined. As fast as Buffer's own decoder: that decoder skips
 * what is outside its alphabet, so a shorter result than the length promises means a stray
 * character; its alphabet also takes `+`, `/` and `=`, refused here; and the trailing bits must be 0.
 */
export function decodeBase64urlStrict(text: string): Buffer | undefined {
  const remainder = text.length % 4;
  if (remainder === 1) return undefined;
  if (text.includes('+') || text.includes('/') || text.includes('=')) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== Math.floor((text.length * 3) / 4)) return undefined;
  if (remainder === 0) return bytes;
  const last = sextet(text.charCodeAt(text.length - 1));
  return (last & (remainder === 2 ? 0x0f : 0x03)) === 0 ? bytes : undefined;
}
