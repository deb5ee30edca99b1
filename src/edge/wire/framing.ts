/**
 * drachtio wire framing: `<N>#<payload>`, N = the UTF-8 byte length of the payload.
 * A TCP chunk may hold several frames or a piece of one; the decoder keeps the remainder.
 */

/** drachtio-server reads at most 5 length digits; a longer prefix is a broken peer. */
const MAX_LENGTH_DIGITS = 5;

export type FrameResult = { ok: true; payload: string } | { ok: false; reason: string };

/** One frame as text, written to the socket in one piece (no intermediate Buffers). */
export function frameText(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
}

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'ascii'), body]);
}

export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxPayloadBytes: number) {}

  /**
   * Returns every complete frame now available. After an `ok: false` result the stream is
   * unusable (the framing is lost) and the caller must close the connection.
   */
  push(chunk: Buffer): FrameResult[] {
    if (this.failed) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: FrameResult[] = [];
    for (;;) {
      const hash = this.pending.indexOf(0x23 /* # */);
      if (hash === -1) {
        if (this.pending.length > MAX_LENGTH_DIGITS) return this.fail(out, 'missing length prefix');
        return out;
      }
      const digits = this.pending.toString('ascii', 0, hash);
      if (!/^[0-9]{1,5}$/.test(digits)) return this.fail(out, 'invalid length prefix');
      const length = Number(digits);
      if (length === 0) return this.fail(out, 'empty frame');
      if (length > this.maxPayloadBytes) return this.fail(out, `frame of ${length} bytes exceeds ${this.maxPayloadBytes}`);
      const end = hash + 1 + length;
      if (this.pending.length < end) return out;
      out.push({ ok: true, payload: this.pending.toString('utf8', hash + 1, end) });
      this.pending = this.pending.subarray(end);
    }
  }

  private fail(out: FrameResult[], reason: string): FrameResult[] {
    this.failed = true;
    this.pending = Buffer.alloc(0);
    out.push({ ok: false, reason });
    return out;
  }
}
