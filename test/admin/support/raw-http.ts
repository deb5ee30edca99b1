import { connect } from 'node:net';

export interface RawReply {
  /** Everything the server sent before it closed the connection (or the wait ran out). */
  text: string;
  status: number | undefined;
  headers: Record<string, string>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  /** The server closed the connection. */
  closed: boolean;
  /** Milliseconds from the last byte written to the close. */
  closedAfterMs: number | undefined;
}

/**
 * Writes `chunks` (with `pauseMs` between them) to 127.0.0.1:port over a plain TCP socket and
 * collects the answer until the server closes, or `waitMs` passes. For requests no HTTP client
 * would send: malformed bytes, a body that never finishes, headers that never end.
 */
export function rawHttp(port: number, chunks: Array<string | Buffer>, opts: { waitMs?: number; pauseMs?: number } = {}): Promise<RawReply> {
  const waitMs = opts.waitMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let lastWrite = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
      const headers = Object.fromEntries(
        lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const).filter(([k]) => k !== ''),
      );
      let body: unknown;
      try {
        body = JSON.parse(rest.join('\r\n\r\n'));
      } catch {
        body = undefined;
      }
      resolve({ text, status: status === undefined ? undefined : Number(status), headers, body, closed, closedAfterMs: closed ? Date.now() - lastWrite : undefined });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => {
      if (received.length > 0 || done) finish(true);
      else reject(err);
    });
    socket.on('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
        if (done) return;
        socket.write(chunk);
        lastWrite = Date.now();
      }
    });
  });
}
