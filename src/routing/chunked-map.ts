/**
 * An immutable map (string or number keys) whose update copies one chunk, not the whole map
 * (docs/performance.md §4): the keys are spread over 2^k plain Maps by a hash, and
 * `with`/`without` return a new ChunkedMap sharing every chunk but the one they change. A map of
 * up to CHUNK_TARGET keys is a single chunk (no hashing on lookups).
 */

const CHUNK_TARGET = 128;
const EMPTY: ReadonlyMap<never, never> = new Map<never, never>();

/**
 * FNV-1a over UTF-16 code units: spreads keys like `+1555…` and UUIDs evenly. A number key (a
 * prefix key, docs/performance.md §4) is mixed from its low and high 32 bits.
 */
function hash(key: string | number): number {
  if (typeof key === 'number') {
    const lo = key >>> 0;
    const hi = Math.floor(key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    return Math.imul(h, 0xc2b2ae35) >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function chunkCountFor(size: number): number {
  let n = 1;
  while (n * CHUNK_TARGET < size) n *= 2;
  return n;
}

export class ChunkedMap<V, K extends string | number = string> {
  /** the one chunk of a small map, read without going through `chunks` (one memory hop less) */
  private readonly single: ReadonlyMap<K, V> | undefined;

  private constructor(
    private readonly chunks: ReadonlyArray<ReadonlyMap<K, V>>,
    readonly size: number,
  ) {
    this.single = chunks.length === 1 ? chunks[0] : undefined;
  }

  static empty<V, K extends string | number = string>(): ChunkedMap<V, K> {
    return new ChunkedMap<V, K>([EMPTY], 0);
  }

  /** Builds from entries (the Map is taken over when it is small enough for one chunk). */
  static from<V, K extends string | number = string>(entries: Map<K, V>): ChunkedMap<V, K> {
    const n = chunkCountFor(entries.size);
    if (n === 1) return new ChunkedMap([entries], entries.size);
    const chunks = Array.from({ length: n }, () => new Map<K, V>());
    for (const [k, v] of entries) chunks[hash(k) & (n - 1)]!.set(k, v);
    return new ChunkedMap(chunks, entries.size);
  }

  private chunkIndex(key: K): number {
    return this.chunks.length === 1 ? 0 : hash(key) & (this.chunks.length - 1);
  }

  get(key: K): V | undefined {
    const single = this.single;
    if (single !== undefined) return single.get(key);
    return this.chunks[hash(key) & (this.chunks.length - 1)]!.get(key);
  }

  has(key: K): boolean {
    return this.chunks[this.chunkIndex(key)]!.has(key);
  }

  /** A new map with key → value; this one is unchanged. */
  with(key: K, value: V): ChunkedMap<V, K> {
    const i = this.chunkIndex(key);
    const chunk = this.chunks[i]!;
    const size = chunk.has(key) ? this.size : this.size + 1;
    if (chunkCountFor(size) > this.chunks.length * 2) return ChunkedMap.from(new Map<K, V>([...this.entries(), [key, value]]));
    const copy = new Map(chunk);
    copy.set(key, value);
    const chunks = this.chunks.slice();
    chunks[i] = copy;
    return new ChunkedMap(chunks, size);
  }

  /** A new map without key; this one is unchanged. */
  without(key: K): ChunkedMap<V, K> {
    const i = this.chunkIndex(key);
    const chunk = this.chunks[i]!;
    if (!chunk.has(key)) return this;
    const copy = new Map(chunk);
    copy.delete(key);
    const chunks = this.chunks.slice();
    chunks[i] = copy;
    return new ChunkedMap(chunks, this.size - 1);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const chunk of this.chunks) yield* chunk.entries();
  }

  *values(): IterableIterator<V> {
    for (const chunk of this.chunks) yield* chunk.values();
  }
}
