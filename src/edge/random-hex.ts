/**
 * Random hex for tags, branches and Call-IDs (RFC 3261 §19.3: globally unique, cryptographically
 * random). One call to the system's random source fills a pool that many identifiers are cut
 * from, as node's randomUUID does: a getrandom() call per tag cost more than the rest of the
 * tag's work (docs/performance.md §6).
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` fresh random bytes as 2 × bytes hex digits; no byte is handed out twice. */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
