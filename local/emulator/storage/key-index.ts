/**
 * A sorted set of object keys in UTF-8 byte order, built for millions of keys: keys live in
 * chunks of at most CHUNK_MAX sorted strings, so an insert or delete moves at most one chunk's
 * worth of pointers, and a lookup is a binary search over chunks then within one chunk.
 */

const CHUNK_MAX = 1024;

/**
 * Orders strings as OSS does (UTF-8 bytes = code points). JS `<` compares UTF-16 code units,
 * which puts U+E000–U+FFFF after astral characters (surrogates); remap both ranges so the
 * first differing code unit decides in code-point order.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // Fast path: without code units >= U+D800 both orders agree, and native comparison is quickest.
  if (!HIGH_UNIT.test(a) && !HIGH_UNIT.test(b)) return a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const HIGH_UNIT = /[\uD800-\uFFFF]/;

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** A position in the index: chunk number and offset inside it. */
interface Cursor {
  chunk: number;
  offset: number;
}

export class SortedKeySet {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    const at = this.lowerBound(key);
    return this.keyAt(at) === key;
  }

  /** Adds the key; false if it was already present. */
  add(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return true;
    }
    const at = this.lowerBound(key);
    if (this.keyAt(at) === key) return false;
    // Past the end: append to the last chunk (the common case for time-ordered keys).
    const chunkIndex = at.chunk < this.chunks.length ? at.chunk : this.chunks.length - 1;
    const chunk = this.chunks[chunkIndex]!;
    const offset = at.chunk < this.chunks.length ? at.offset : chunk.length;
    chunk.splice(offset, 0, key);
    if (chunk.length > CHUNK_MAX) this.chunks.splice(chunkIndex + 1, 0, chunk.splice(CHUNK_MAX >> 1));
    this.count++;
    return true;
  }

  /** Removes the key; false if it was absent. */
  delete(key: string): boolean {
    const at = this.lowerBound(key);
    if (this.keyAt(at) !== key) return false;
    const chunk = this.chunks[at.chunk]!;
    chunk.splice(at.offset, 1);
    if (chunk.length === 0) this.chunks.splice(at.chunk, 1);
    this.count--;
    return true;
  }

  /**
   * Keys in order, starting at the first key for which `before(key)` is false. `before` must be
   * true for a (possibly empty) leading run of keys and false for the rest.
   */
  *from(before: (key: string) => boolean): Generator<string> {
    let { chunk, offset } = this.search(before);
    for (; chunk < this.chunks.length; chunk++, offset = 0) {
      const keys = this.chunks[chunk]!;
      for (; offset < keys.length; offset++) yield keys[offset]!;
    }
  }

  private lowerBound(key: string): Cursor {
    return this.search((k) => compareKeys(k, key) < 0);
  }

  private search(before: (key: string) => boolean): Cursor {
    let lo = 0;
    let hi = this.chunks.length;
    // First chunk whose last key is not `before`.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const keys = this.chunks[mid]!;
      if (before(keys[keys.length - 1]!)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.chunks.length) return { chunk: lo, offset: 0 };
    const keys = this.chunks[lo]!;
    let l = 0;
    let h = keys.length;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (before(keys[mid]!)) l = mid + 1;
      else h = mid;
    }
    return { chunk: lo, offset: l };
  }

  private keyAt(at: Cursor): string | undefined {
    return this.chunks[at.chunk]?.[at.offset];
  }
}
