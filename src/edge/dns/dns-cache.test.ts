import { describe, expect, it } from 'vitest';
import type { DnsAnswer, DnsClient, NaptrRecord, SrvRecord } from './dns-client.ts';
import { CachingDnsClient } from './dns-cache.ts';

class CountingDns implements DnsClient {
  calls = 0;
  fail = false;
  constructor(private readonly ttl: number) {}
  private answer<T>(records: T[]): Promise<DnsAnswer<T>> {
    this.calls++;
    return this.fail ? Promise.reject(new Error('SERVFAIL')) : Promise.resolve({ records, ttl: this.ttl });
  }
  naptr(): Promise<DnsAnswer<NaptrRecord>> {
    return this.answer([]);
  }
  srv(): Promise<DnsAnswer<SrvRecord>> {
    return this.answer([{ priority: 0, weight: 0, port: 5060, target: 'x' }]);
  }
  addresses(): Promise<DnsAnswer<string>> {
    return this.answer(['192.0.2.1']);
  }
}

describe('CachingDnsClient', () => {
  it('answers from the cache until the TTL runs out, then asks again', async () => {
    let now = 0;
    const inner = new CountingDns(30);
    const c = new CachingDnsClient(inner, { now: () => now });
    await c.srv('_sip._udp.a.test');
    now = 29_999;
    await c.srv('_SIP._udp.A.test');
    expect(inner.calls).toBe(1);
    now = 30_000;
    await c.srv('_sip._udp.a.test');
    expect(inner.calls).toBe(2);
  });

  it('keeps negative answers for their TTL too, and questions apart by type', async () => {
    let now = 0;
    const inner = new CountingDns(10);
    const c = new CachingDnsClient(inner, { now: () => now });
    await c.naptr('a.test');
    await c.naptr('a.test');
    await c.addresses('a.test');
    expect(inner.calls).toBe(2);
    now = 10_001;
    await c.naptr('a.test');
    expect(inner.calls).toBe(3);
  });

  it('shares one query among callers asking at once', async () => {
    const inner = new CountingDns(5);
    const c = new CachingDnsClient(inner, { now: () => 0 });
    await Promise.all([c.addresses('a.test'), c.addresses('a.test'), c.addresses('a.test')]);
    expect(inner.calls).toBe(1);
  });

  it('does not keep zero-TTL answers', async () => {
    const inner = new CountingDns(0);
    const c = new CachingDnsClient(inner, { now: () => 0 });
    await c.addresses('a.test');
    await c.addresses('a.test');
    expect(inner.calls).toBe(2);
    expect(c.size).toBe(0);
  });

  it('does not keep failures: the next question asks again', async () => {
    const inner = new CountingDns(60);
    const c = new CachingDnsClient(inner, { now: () => 0 });
    inner.fail = true;
    await expect(c.srv('b.test')).rejects.toThrow();
    inner.fail = false;
    await c.srv('b.test');
    await c.srv('b.test');
    expect(inner.calls).toBe(2);
    expect(c.size).toBe(1);
  });
});
