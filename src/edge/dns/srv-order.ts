/**
 * The order in which SRV targets are tried (RFC 2782, "Usage rules"): lowest priority first;
 * within one priority, a weighted random draw without replacement, zero-weight records first in
 * the running sum so that they are picked rarely but not never. random is injectable for tests.
 */
import type { SrvRecord } from './dns-client.ts';

export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  // RFC 2782: a single record with target "." means the service is decidedly not available.
  if (records.length === 1 && (records[0]?.target === '.' || records[0]?.target === '')) return [];
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const left = [...(byPriority.get(priority) ?? [])].sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (left.length > 0) {
      const total = left.reduce((sum, r) => sum + r.weight, 0);
      // "a random number between 0 and the sum of the weights (inclusive)"
      const pick = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        running += left[i]?.weight ?? 0;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(...left.splice(index, 1));
    }
  }
  return out;
}
