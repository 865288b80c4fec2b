// UUID version 7 (RFC 9562 section 5.7): 48-bit Unix milliseconds, then random bits, so ids sort
// by creation time. Ids made in the same millisecond by one process stay strictly increasing:
// the 12-bit rand_a field is used as a counter seeded at random (RFC 9562 section 6.2, method 1).
// Read from the system clock, time never goes backwards here: a clock stepped back keeps the last
// millisecond. A time passed in (an injected clock) is taken as it is.
import { randomFillSync } from 'node:crypto';

// Random bytes are drawn from the system 4 KiB at a time: one call per ~400 ids, not one per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;
const random = new Uint8Array(10);
function fillRandom(): void {
  if (poolAt + random.length > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  random.set(pool.subarray(poolAt, poolAt + random.length));
  poolAt += random.length;
}
/** The time asked for last, and the millisecond last encoded (ahead of it after a borrow). */
let lastAsked = -1;
let lastMs = -1;
let counter = 0;

export function uuidv7(at?: number): string {
  fillRandom();
  const asked = at ?? Date.now();
  let ms: number;
  // Same time as last, or the system clock behind what was already encoded: continue the sequence.
  if (asked === lastAsked || (at === undefined && asked < lastMs)) {
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond, as the RFC allows.
      ms += 1;
      counter = random[0]! & 0x7ff;
    }
  } else {
    ms = asked;
    counter = ((random[0]! << 8) | random[1]!) & 0x7ff; // leave headroom for increments
  }
  lastAsked = asked;
  lastMs = ms;

  const bytes = new Uint8Array(16);
  // 48-bit big-endian timestamp; division keeps it exact beyond 32 bits.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f); // version 7 + rand_a high bits
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (random[2]! & 0x3f); // variant 10 + rand_b
  bytes.set(random.subarray(3, 10), 9);

  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Milliseconds since the epoch encoded in a UUID v7. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}
