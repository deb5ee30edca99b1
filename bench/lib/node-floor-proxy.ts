/**
 * The floor of the CPU measurement: what a Node process pays per call on this machine when it
 * does almost nothing. A stateless UDP proxy, run as its own node process, on the same call load
 * as outdial and the Kamailio peer. It answers an initial INVITE with its own 100 Trying, rewrites
 * the Request-URI to the carrier (as Kamailio's config does), adds a Via, a Record-Route and the
 * same X-Trunk-Id header, and sends every request from the platform to the carrier. It relays a
 * response to the Via below its own. No transactions, no retransmissions, no state: only for the
 * bench's well-formed sipp traffic on loopback.
 *
 *   node --import tsx bench/lib/node-floor-proxy.ts <port> <carrier port>
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, portBound } from '../../test/support/free-port.ts';
import { spawnTracked, type TrackedChild } from './child-processes.ts';
import { REPO_ROOT } from './outdial-process.ts';
import { sleep } from './sipp-run.ts';

export interface NodeFloorProxy {
  readonly child: TrackedChild;
  readonly port: number;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts the proxy in its own process, routing to `carrierPort`; resolves once it is bound. */
export async function startNodeFloorProxy(carrierPort: number): Promise<NodeFloorProxy> {
  const port = await freePort();
  const child = spawnTracked('node-floor-proxy', process.execPath, ['--import', 'tsx', SELF, String(port), String(carrierPort)], { cwd: REPO_ROOT });
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (child.hasExited()) throw new Error(`node floor proxy exited during start:\n${child.outputTail()}`);
    if (portBound(port, 'udp')) return { child, port, stop: async () => void (await child.stop(2000)) };
    await sleep(50);
  }
  await child.stop(1000);
  throw new Error(`node floor proxy did not bind 127.0.0.1:${port}:\n${child.outputTail()}`);
}

/** The response without its top Via value (sipp joins Vias on one line, comma-separated). */
function withoutTopVia(text: string): { text: string; next: { host: string; port: number } | undefined } {
  const start = text.indexOf('\r\nVia:');
  if (start < 0) return { text, next: undefined };
  const end = text.indexOf('\r\n', start + 2);
  const line = text.slice(start + 2, end);
  const comma = line.indexOf(',');
  const rest = comma < 0 ? text.slice(0, start) + text.slice(end) : `${text.slice(0, start)}\r\nVia: ${line.slice(comma + 1).trimStart()}${text.slice(end)}`;
  const m = /\r\nVia: SIP\/2\.0\/UDP ([^:;\s]+):(\d+)/.exec(rest);
  return { text: rest, next: m ? { host: m[1]!, port: Number(m[2]) } : undefined };
}

function runProxy(port: number, carrierPort: number): void {
  const socket = dgram.createSocket('udp4');
  let branches = 0;
  socket.on('message', (buf, from) => {
    const text = buf.toString('latin1');
    const eol = text.indexOf('\r\n');
    if (eol < 0) return;
    const first = text.slice(0, eol);
    if (first.startsWith('SIP/2.0 ')) {
      const out = withoutTopVia(text);
      if (out.next) socket.send(Buffer.from(out.text, 'latin1'), out.next.port, out.next.host);
      return;
    }
    const via = `\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKfloor${process.pid}x${(branches++).toString(36)}`;
    const head = text.slice(eol, text.indexOf('\r\n\r\n'));
    let out: string;
    if (first.startsWith('INVITE ') && !/\r\nTo:[^\r]*;tag=/i.test(head)) {
      const answerHeaders = head.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
      socket.send(Buffer.from(`SIP/2.0 100 Trying\r\n${answerHeaders.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, 'latin1'), from.port, from.address);
      const uri = first.slice(first.indexOf(' ') + 1, first.lastIndexOf(' '));
      const user = uri.slice(uri.indexOf(':') + 1, uri.indexOf('@'));
      const rest = text.slice(eol).replace(/\r\nMax-Forwards: (\d+)/i, (_m, n: string) => `\r\nMax-Forwards: ${Number(n) - 1}\r\nX-Trunk-Id: bench`);
      out = `INVITE sip:${user}@127.0.0.1:${carrierPort} SIP/2.0${via}\r\nRecord-Route: <sip:127.0.0.1:${port};lr>${rest}`;
    } else {
      // in-dialog (ACK, BYE): our own Route entry goes, the rest is relayed as it is
      out = first + via + text.slice(eol).replace(/\r\nRoute: [^\r]*/i, '');
    }
    socket.send(Buffer.from(out, 'latin1'), carrierPort, '127.0.0.1');
  });
  socket.bind(port, '127.0.0.1');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [port, carrierPort] = process.argv.slice(2).map(Number);
  if (!port || !carrierPort) {
    process.stderr.write('usage: node-floor-proxy.ts <port> <carrier port>\n');
    process.exit(2);
  }
  runProxy(port, carrierPort);
}
