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

/** Where `bytes` fresh bytes start in the pool (refilled when too few are left); no byte is handed out twice. */
function take(bytes: number): number {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** `bytes` fresh random bytes as 2 × bytes hex digits. */
export function randomHex(bytes: number): string {
  const at = take(bytes);
  return pool.toString('hex', at, at + bytes);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const uuidText = Buffer.allocUnsafe(36);

/**
 * A random (version 4) UUID, `8-4-4-4-12` lower-case hex, from the same pool, as one flat
 * string: node's randomUUID joins it from pieces with `+`, a tree of about ten strings (300
 * bytes instead of 56) that every wire transaction id and Call-ID kept for as long as it lived
 * (docs/performance.md §6).
 */
export function randomUuid(): string {
  const at = take(16);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    let b = pool[at + i]!;
    // RFC 9562 5.4: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidText[o++] = 0x2d;
    uuidText[o++] = HEX_DIGITS[b >> 4]!;
    uuidText[o++] = HEX_DIGITS[b & 15]!;
  }
  return uuidText.toString('latin1');
}
