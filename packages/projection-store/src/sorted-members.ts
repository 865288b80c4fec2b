// The in-memory adapter's sorted set: members in byte order (as Redis orders members of equal
// score), kept in chunks of bounded size so that an insert, a delete and a range seek cost
// O(log n + chunk) rather than the O(n) of one flat sorted array.
import { compareMembers, type IndexBound } from './port.js';

const maxChunk = 512;

export class SortedMembers {
  private readonly chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(member: string): boolean {
    const chunk = this.chunks[this.chunkFor(member)];
    if (!chunk) return false;
    const at = lowerBound(chunk, member);
    return chunk[at] === member;
  }

  add(member: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([member]);
      this.count = 1;
      return true;
    }
    const c = this.chunkFor(member);
    const chunk = this.chunks[c]!;
    const at = lowerBound(chunk, member);
    if (chunk[at] === member) return false;
    chunk.splice(at, 0, member);
    this.count += 1;
    if (chunk.length > maxChunk * 2) this.chunks.splice(c + 1, 0, chunk.splice(maxChunk));
    return true;
  }

  delete(member: string): boolean {
    const c = this.chunkFor(member);
    const chunk = this.chunks[c];
    if (!chunk) return false;
    const at = lowerBound(chunk, member);
    if (chunk[at] !== member) return false;
    chunk.splice(at, 1);
    this.count -= 1;
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  /** Up to `limit` members from `min` to `max` (null: unbounded), in order. */
  range(min: IndexBound | null, max: IndexBound | null, limit: number): string[] {
    const out: string[] = [];
    if (limit <= 0 || this.chunks.length === 0) return out;
    let c = min ? this.chunkFor(min.member) : 0;
    let at = 0;
    if (min) {
      const chunk = this.chunks[c]!;
      at = lowerBound(chunk, min.member);
      if (!min.inclusive && chunk[at] === min.member) at += 1;
    }
    for (; c < this.chunks.length; c++, at = 0) {
      const chunk = this.chunks[c]!;
      for (; at < chunk.length; at++) {
        const member = chunk[at]!;
        if (max) {
          const order = compareMembers(member, max.member);
          if (order > 0 || (order === 0 && !max.inclusive)) return out;
        }
        out.push(member);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  all(): string[] {
    return this.chunks.flat();
  }

  /** The chunk a member belongs in: the first whose last member is not below it, else the last. */
  private chunkFor(member: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid]!;
      if (compareMembers(chunk[chunk.length - 1]!, member) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first position in a sorted chunk whose member is not below `member`. */
function lowerBound(chunk: readonly string[], member: string): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareMembers(chunk[mid]!, member) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
