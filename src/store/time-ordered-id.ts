import { randomFillSync } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562 §5.7): the first 48 bits are the Unix time in milliseconds, the
 * rest random. Tables that only grow in time order (call records) get their ids appended at the
 * end of the primary-key index instead of scattered over it, so a batch insert touches a few
 * pages rather than one per row. It is still a UUID, so the API's id rules apply unchanged.
 */
export function timeOrderedId(ms: number): string {
  const b = randomFillSync(new Uint8Array(16));
  let t = Math.max(0, Math.floor(ms));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10 (RFC 9562 §4.1)
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
