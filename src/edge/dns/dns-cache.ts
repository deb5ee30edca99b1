/**
 * Keeps DNS answers for their TTL (RFC 1035 3.2.1, RFC 2308 for negative answers) and shares one
 * query among callers asking the same question at once. Failures are not kept: the next call
 * asks again. The clock is injectable so expiry can be tested without waiting.
 */
import type { DnsAnswer, DnsClient, NaptrRecord, SrvRecord } from './dns-client.ts';

export interface CacheClock {
  now(): number;
}

interface Entry {
  expiresAt: number;
  answer: Promise<DnsAnswer<unknown>>;
}

/** Cached answers are bounded so that traffic naming endless new hosts cannot grow the cache forever. */
const MAX_ENTRIES = 10_000;

export class CachingDnsClient implements DnsClient {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inner: DnsClient,
    private readonly clock: CacheClock = { now: () => Date.now() },
  ) {}

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    return this.cached(`NAPTR ${name}`, () => this.inner.naptr(name));
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.cached(`SRV ${name}`, () => this.inner.srv(name));
  }

  addresses(name: string): Promise<DnsAnswer<string>> {
    return this.cached(`ADDR ${name}`, () => this.inner.addresses(name));
  }

  get size(): number {
    return this.entries.size;
  }

  private cached<T>(key: string, ask: () => Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> {
    const k = key.toLowerCase();
    const now = this.clock.now();
    const hit = this.entries.get(k);
    if (hit && hit.expiresAt > now) return hit.answer as Promise<DnsAnswer<T>>;
    if (hit) this.entries.delete(k);
    if (this.entries.size >= MAX_ENTRIES) this.evictExpired(now);
    // While the query is in flight, callers share it; its TTL is known only when it answers.
    const entry: Entry = { expiresAt: Number.POSITIVE_INFINITY, answer: ask() };
    this.entries.set(k, entry);
    entry.answer.then(
      (a) => {
        entry.expiresAt = this.clock.now() + Math.max(0, a.ttl) * 1000;
        if (a.ttl <= 0 && this.entries.get(k) === entry) this.entries.delete(k);
      },
      () => {
        if (this.entries.get(k) === entry) this.entries.delete(k);
      },
    );
    return entry.answer as Promise<DnsAnswer<T>>;
  }

  private evictExpired(now: number): void {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
