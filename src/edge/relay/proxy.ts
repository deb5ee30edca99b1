/**
 * srf.proxyRequest (docs/edge.md §7): the edge as a stateful proxy for a request the app was
 * given, as drachtio-server's proxy core does it (RFC 3261 16). Destinations are tried one at a
 * time (serial, the next after a failure) or all at once (simultaneous); 1xx and 2xx go upstream
 * at once (16.7 step 5), a 2xx cancels the other branches, failures are kept and the best one is
 * forwarded when every branch is done (16.7 step 6, drachtio's order: 6xx, then 401/407/415/420/
 * 484, then 4xx, then 5xx, then the rest). With `remainInDialog` the edge adds Record-Route and
 * later requests of the dialog come through it (route-forwarding.ts). The app is told of every
 * final response and then `done`.
 */
import { cloneMessage, getHeader, parseUri, serializeMessage, setHeader, removeHeader, type SipRequest, type SipResponse } from '../sip/message.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { ClientTransaction } from '../transaction/transaction-types.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import { parseAppSip } from '../wire/app-sip-text.ts';
import { formatNok, formatOk, wireTime, type WirePayload } from '../wire/wire-message.ts';
import { STACK_OWNED_HEADERS } from '../uac-request-builder.ts';
import { hostport } from '../sip-identity.ts';
import type { RelayContext } from './relay-context.ts';
import { moveInbound, type InboundTxn } from './transaction-records.ts';
import { proxyTarget } from './next-hop.ts';
import { decrementMaxForwards, isEdgeHostport, upstream } from './route-forwarding.ts';

/**
 * not-started → calling → proceeding → completed (a final failure) | answered (2xx) | failed (no
 * response, transport error) ; cancelled once the proxy stops searching before a final came.
 */
type BranchState = 'not-started' | 'calling' | 'proceeding' | 'completed' | 'answered' | 'failed' | 'cancelled';

const BRANCH_TRANSITIONS: Readonly<Record<BranchState, readonly BranchState[]>> = {
  'not-started': ['calling', 'cancelled', 'failed'],
  calling: ['proceeding', 'completed', 'answered', 'failed', 'cancelled'],
  proceeding: ['completed', 'answered', 'failed', 'cancelled'],
  // a branch cancelled after its request went out still ends with its own final response
  cancelled: ['completed', 'answered', 'failed'],
  completed: [],
  answered: [],
  failed: [],
};

interface Branch {
  uri: string;
  state: BranchState;
  client: ClientTransaction | undefined;
  final: SipResponse | undefined;
  /** final was made up by the edge (no answer, transport failure): it carries upstream's Vias */
  madeUp: boolean;
  provisionalTimer: unknown;
}

function move(b: Branch, to: BranchState): boolean {
  if (b.state === to) return true;
  if (!BRANCH_TRANSITIONS[b.state].includes(to)) return false;
  b.state = to;
  return true;
}

export function appProxy(ctx: RelayContext, app: AppConnection, msg: WirePayload): void {
  const [txnId = '', remainInDialog = '', , followRedirects = '', launch = '', provisionalTimeout = '', , ...destinations] = msg.args;
  const record = ctx.inbound.get(txnId);
  if (!record || record.app !== app || record.state !== 'pending' || destinations.length === 0) {
    app.send(formatNok(msg.msgId, `Unknown transaction id: ${txnId}`));
    return;
  }
  const mf = getHeader(record.request, 'Max-Forwards');
  if (mf !== undefined && Number(mf.trim()) <= 0) {
    moveInbound(record, 'final-sent');
    app.send(formatNok(msg.msgId, 'Rejected with 483 Too Many Hops due to Max-Forwards value of 0'));
    ctx.respondLocally(record.server, 483, record.toTag);
    return;
  }
  const appHeaders = msg.sip !== undefined ? (parseAppSip(msg.sip)?.headers ?? []) : [];
  const core = new ProxyCore(ctx, app, msg.msgId, record, destinations.filter((d) => d !== ''), {
    recordRoute: remainInDialog === 'remainInDialog',
    followRedirects: followRedirects === 'followRedirects',
    simultaneous: launch === 'simultaneous',
    provisionalTimeoutMs: parseTimeout(provisionalTimeout),
    headers: appHeaders.filter((h) => !STACK_OWNED_HEADERS.includes(canonicalHeaderKey(h.name))),
  });
  moveInbound(record, 'final-sent');
  record.proxy = core;
  core.start();
}

/** drachtio's syntax: `<n>ms` or `<n>s`. */
function parseTimeout(t: string): number {
  const m = /^(\d+)(ms|s)$/.exec(t);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

interface ProxyOptions {
  recordRoute: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  provisionalTimeoutMs: number;
  headers: Array<{ name: string; value: string }>;
}

class ProxyCore {
  private readonly branches: Branch[];
  private searching = true;
  private finished = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly app: AppConnection,
    private readonly msgId: string,
    private readonly record: InboundTxn,
    destinations: string[],
    private readonly opts: ProxyOptions,
  ) {
    this.branches = destinations.map((uri) => newBranchFor(uri));
  }

  start(): void {
    // some clients preload a Route; drachtio-server drops it before proxying
    this.startNext();
    this.checkDone();
  }

  /** The upstream CANCEL (9.2, 16.10): 487 upstream, CANCEL to every branch in progress. */
  cancel(): void {
    if (!this.searching) return;
    this.searching = false;
    void this.record.server.respond(createResponse(this.record.request, 487, 'Request Terminated', this.record.toTag)).catch(() => undefined);
    this.cancelOutstanding();
    this.checkDone();
  }

  private startNext(): void {
    for (const b of this.branches) {
      if (!this.searching) return;
      if (b.state !== 'not-started') continue;
      this.launch(b);
      if (!this.opts.simultaneous) return;
    }
  }

  private launch(b: Branch): void {
    move(b, 'calling');
    const req = this.branchRequest(b.uri);
    void proxyTarget(this.ctx.resolver, b.uri).then(
      (target) => {
        if (b.state !== 'calling') return;
        const client = this.ctx.layer.sendRequest(req, target);
        b.client = client;
        client.on('response', (res) => this.ctx.guard('proxy-response', () => this.onResponse(b, res)));
        client.on('timeout', () => this.ctx.guard('proxy-timeout', () => this.onFailure(b)));
        client.on('transport-error', () => this.ctx.guard('proxy-transport', () => this.onFailure(b, 503)));
        if (this.opts.provisionalTimeoutMs > 0 && req.method === 'INVITE') {
          b.provisionalTimer = this.ctx.clock.setTimeout(() => this.ctx.guard('proxy-provisional-timeout', () => this.onProvisionalTimeout(b)), this.opts.provisionalTimeoutMs);
        }
      },
      (err: unknown) => {
        this.ctx.log.info({ err, uri: b.uri }, 'proxy destination unresolvable');
        this.onFailure(b, 503);
      },
    );
  }

  /** RFC 3261 16.6: a copy with the target, the edge's Record-Route and one hop fewer. */
  private branchRequest(uri: string): SipRequest {
    const req = cloneMessage(this.record.request);
    decrementMaxForwards(req);
    removeHeader(req, 'Route');
    // drachtio-server replaces the Request-URI only when it names the edge itself
    const ruri = parseUri(req.uri);
    if (ruri && ruri.scheme !== 'tel' && isEdgeHostport(this.ctx, ruri.host, ruri.port)) req.uri = uri;
    for (const h of this.opts.headers) setHeader(req, h.name, h.value);
    if (this.opts.recordRoute && req.method !== 'REGISTER') {
      const transport = this.record.flow.transport;
      const rr = `<sip:${hostport(this.ctx.local())}${transport === 'udp' ? '' : `;transport=${transport}`};lr>`;
      req.headers.unshift({ name: 'Record-Route', value: rr });
    }
    return req;
  }

  private onProvisionalTimeout(b: Branch): void {
    b.provisionalTimer = undefined;
    if (b.state !== 'calling' || !this.searching) return;
    // no provisional in time: give up on this destination, try the next
    b.client?.cancel();
    move(b, 'failed');
    this.startNext();
    this.checkDone();
  }

  private onResponse(b: Branch, res: SipResponse): void {
    const s = res.status;
    if (s === 100) return;
    if (s < 200) {
      this.clearProvisionalTimer(b);
      move(b, 'proceeding');
      if (this.searching) this.forward(res);
      return;
    }
    if (s < 300) {
      // retransmitted 2xx go upstream too (RFC 6026 7.2)
      const first = b.state !== 'answered';
      this.clearProvisionalTimer(b);
      move(b, 'answered');
      this.forward(res);
      if (!first) return;
      this.report(res, b);
      this.searching = false;
      this.cancelOutstanding();
      // drachtio-server tells the app `done` right behind the 2xx
      this.finish();
      return;
    }
    if (b.state === 'completed') return;
    this.clearProvisionalTimer(b);
    b.final = res;
    move(b, 'completed');
    this.report(res, b);
    if (s < 400 && this.opts.followRedirects && this.searching) this.addRedirects(b, res);
    const challenged = (s === 401 || s === 407) && (getHeader(res, 'WWW-Authenticate') !== undefined || getHeader(res, 'Proxy-Authenticate') !== undefined);
    if (challenged && this.searching) {
      // drachtio-server stops searching and sends the challenge back at once
      this.searching = false;
      this.cancelOutstanding();
      this.forwardBest();
    }
    this.startNext();
    this.checkDone();
  }

  private onFailure(b: Branch, status?: number): void {
    this.clearProvisionalTimer(b);
    if (!move(b, 'failed')) return;
    if (status !== undefined) {
      b.final = createResponse(this.record.request, status, undefined, this.record.toTag);
      b.madeUp = true;
    }
    this.startNext();
    this.checkDone();
  }

  private addRedirects(b: Branch, res: SipResponse): void {
    const at = this.branches.indexOf(b);
    const contacts = res.headers.filter((h) => canonicalHeaderKey(h.name) === 'contact').flatMap((h) => h.value.split(','));
    const uris = contacts.map((c) => /<([^>]+)>/.exec(c)?.[1] ?? c.trim().split(';')[0] ?? '').filter((u) => u !== '');
    this.branches.splice(at + 1, 0, ...uris.map((u) => newBranchFor(u)));
  }

  private cancelOutstanding(): void {
    for (const b of this.branches) {
      if (b.state === 'not-started') move(b, 'cancelled');
      else if (b.state === 'calling' || b.state === 'proceeding') {
        this.clearProvisionalTimer(b);
        b.client?.cancel();
        move(b, 'cancelled');
      }
    }
  }

  /** Every branch is done: forward the best failure (unless a 2xx or CANCEL already answered), then tell the app. */
  private checkDone(): void {
    if (this.finished) return;
    // a cancelled branch whose request went out still waits for its own final response
    const busy = this.branches.some((b) => b.state === 'calling' || b.state === 'proceeding' || (b.state === 'cancelled' && b.client !== undefined));
    if (this.searching && !busy && !this.branches.some((b) => b.state === 'not-started')) this.forwardBest();
    if (this.searching || busy) return;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.app.send(formatOk(this.msgId, ['done']));
  }

  private forwardBest(): void {
    this.searching = false;
    const best = this.branches.filter((b) => b.final !== undefined).sort((a, b) => rank(a.final!.status) - rank(b.final!.status))[0];
    if (!best) {
      void this.record.server.respond(createResponse(this.record.request, 408, 'Request Timeout', this.record.toTag)).catch(() => undefined);
      return;
    }
    this.forward(best.final!, !best.madeUp);
  }

  /** Upstream on the server transaction; a downstream response loses the edge's Via first. */
  private forward(res: SipResponse, fromDownstream = true): void {
    void this.record.server.respond(fromDownstream ? upstream(res) : res).catch((err: unknown) => this.ctx.log.debug({ err }, 'proxied response not sent'));
  }

  /** The app's view of a final response (srf's fullResponse): `OK|network|...|continue`. */
  private report(res: SipResponse, b: Branch): void {
    const raw = serializeMessage(res);
    const t = b.client?.target;
    this.app.send(formatOk(this.msgId, ['network', String(raw.length), t?.transport ?? 'udp', t?.address ?? '', String(t?.port ?? ''), wireTime(), '', '', 'continue'], raw.toString('utf8')));
  }

  private clearProvisionalTimer(b: Branch): void {
    if (b.provisionalTimer !== undefined) this.ctx.clock.clearTimeout(b.provisionalTimer);
    b.provisionalTimer = undefined;
  }
}

function newBranchFor(uri: string): Branch {
  return { uri: /^(sips?|tel):/i.test(uri) ? uri : `sip:${uri}`, state: 'not-started', client: undefined, final: undefined, madeUp: false, provisionalTimer: undefined };
}

/** drachtio-server's best-response order (sip-proxy-controller.cpp, after RFC 3261 16.7 step 6). */
function rank(status: number): number {
  if (status >= 600) return 0;
  if ([401, 407, 415, 420, 484].includes(status)) return 1;
  if (status >= 400 && status < 500) return 2;
  if (status >= 500 && status < 600) return 3;
  return 4;
}
