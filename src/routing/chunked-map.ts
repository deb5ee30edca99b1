/**
 * An immutable string-keyed map whose update copies one chunk, not the whole map
 * (docs/performance.md §4): the keys are spread over 2^k plain Maps by a string hash, and
 * `with`/`without` return a new ChunkedMap sharing every chunk but the one they change. A map of
 * up to CHUNK_TARGET keys is a single chunk (no hashing on lookups).
 */

const CHUNK_TARGET = 128;
const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();

/** FNV-1a over UTF-16 code units: spreads keys like `+1555…` and UUIDs evenly. */
function hash(key: string): number {
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

export class ChunkedMap<V> {
  private constructor(
    private readonly chunks: ReadonlyArray<ReadonlyMap<string, V>>,
    readonly size: number,
  ) {}

  static empty<V>(): ChunkedMap<V> {
    return new ChunkedMap<V>([EMPTY], 0);
  }

  /** Builds from entries (the Map is taken over when it is small enough for one chunk). */
  static from<V>(entries: Map<string, V>): ChunkedMap<V> {
    const n = chunkCountFor(entries.size);
    if (n === 1) return new ChunkedMap([entries], entries.size);
    const chunks = Array.from({ length: n }, () => new Map<string, V>());
    for (const [k, v] of entries) chunks[hash(k) & (n - 1)]!.set(k, v);
    return new ChunkedMap(chunks, entries.size);
  }

  private chunkIndex(key: string): number {
    return this.chunks.length === 1 ? 0 : hash(key) & (this.chunks.length - 1);
  }

  get(key: string): V | undefined {
    return this.chunks.length === 1 ? this.chunks[0]!.get(key) : this.chunks[hash(key) & (this.chunks.length - 1)]!.get(key);
  }

  has(key: string): boolean {
    return this.chunks[this.chunkIndex(key)]!.has(key);
  }

  /** A new map with key → value; this one is unchanged. */
  with(key: string, value: V): ChunkedMap<V> {
    const i = this.chunkIndex(key);
    const chunk = this.chunks[i]!;
    const size = chunk.has(key) ? this.size : this.size + 1;
    if (chunkCountFor(size) > this.chunks.length * 2) return ChunkedMap.from(new Map([...this.entries(), [key, value]]));
    const copy = new Map(chunk);
    copy.set(key, value);
    const chunks = this.chunks.slice();
    chunks[i] = copy;
    return new ChunkedMap(chunks, size);
  }

  /** A new map without key; this one is unchanged. */
  without(key: string): ChunkedMap<V> {
    const i = this.chunkIndex(key);
    const chunk = this.chunks[i]!;
    if (!chunk.has(key)) return this;
    const copy = new Map(chunk);
    copy.delete(key);
    const chunks = this.chunks.slice();
    chunks[i] = copy;
    return new ChunkedMap(chunks, this.size - 1);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const chunk of this.chunks) yield* chunk.entries();
  }

  *values(): IterableIterator<V> {
    for (const chunk of this.chunks) yield* chunk.values();
  }
}
