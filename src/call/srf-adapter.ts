/**
 * drachtio-srf 5, as the call path uses it. Every gap in srf's typings (lib/@types/index.d.ts)
 * and every reach into its internals sits in this module, so an srf upgrade breaks here and only
 * here. The call path itself talks to the small ports declared below (Leg, CarrierInviter,
 * PlatformAnswerer), which srf's objects satisfy and test fakes implement.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import type Srf from 'drachtio-srf';
import type { LinkFrame, LinkSender, WireLink } from '../edge/wire/wire-link.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';

// srf's own dependencies, resolved from srf's directory: the method list its routers are made
// from (lib/srf.js) and the status table Response#send checks against (lib/response.js).
const fromSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));
const SRF_METHODS = fromSrf('sip-methods') as string[];
const SRF_STATUSES = fromSrf('sip-status') as Record<string, string>;

// ------------------------------------------------------------------ typings srf does not ship
// Inside `declare module`, interface names merge into the namespace srf exports (`export = Srf`).
declare module 'drachtio-srf' {
  interface Dialog {
    /** false once the dialog has ended (BYE sent or received): lib/dialog.js. */
    connected: boolean;
    /** while true srf holds incoming in-dialog requests; setting it false replays them (lib/dialog.js). */
    queueRequests: boolean;
    on(event: LegEvent, listener: (req: SrfRequest, res: SrfResponse) => void): this;
    once(event: 'ack', listener: (ack: SrfRequest) => void): this;
    /** the callback form passes the ACK function for a 2xx to an INVITE sent with noAck (lib/dialog.js request). */
    request(opts: InDialogRequestOptions, callback: (err: unknown, res: SrfResponse, ack?: AckFn) => void): this;
  }
  interface SrfResponse {
    /** a reason of undefined sends the standard phrase (lib/response.js) */
    send(status: number, reason: string | undefined, opts: SendOptions): void;
  }
  interface CreateUACOptions {
    /** the From user part (lib/srf.js createUAC) */
    callingNumber?: string;
  }
}

/** What srf's createUAC hands back for a 2xx to an INVITE sent without SDP and with noAck (lib/srf.js). */
interface SrfPendingOffer {
  sdp: string;
  res: Srf.SrfResponse;
  ack(answer: string): Promise<Srf.Dialog>;
  destroy(): Promise<void>;
}

/** An srf error for a final non-2xx: SipError with the response (lib/sip_error.js, lib/srf.js). */
interface SrfSipError {
  status?: number;
  reason?: string;
  res?: Srf.SrfResponse;
}

/**
 * The parts of an srf instance the call app uses, typed as srf really behaves: createUAC's
 * cbRequest is called as (err, req), the delayed-offer result, the method routers srf defines
 * for every SIP method (lib/srf.js, `methods.forEach`), and request() with a callback.
 */
interface SrfApp {
  createUAC(
    uri: string,
    opts: Srf.CreateUACOptions,
    callbacks: { cbRequest(err: unknown, req?: Srf.SrfRequest): void; cbProvisional(res: Srf.SrfResponse): void },
  ): Promise<Srf.Dialog | SrfPendingOffer>;
  createUAS(req: Srf.SrfRequest, res: Srf.SrfResponse, opts: { localSdp: string; headers?: Record<string, string> }): Promise<Srf.Dialog>;
  request(
    uri: string,
    opts: { method: string; headers: Record<string, string> },
    callback: (err: unknown, req: { on(event: 'response', listener: (res: { status: number }) => void): unknown }) => void,
  ): unknown;
}

function app(srf: Srf): SrfApp {
  return srf as unknown as SrfApp;
}

// ------------------------------------------------------------------ the ports the call path uses

/** In-dialog events the bridge listens to (lib/dialog.js `handle`). */
export type LegEvent = 'modify' | 'update' | 'info' | 'message' | 'notify' | 'options' | 'refer' | 'publish';

export interface HeaderReader {
  get(name: string): string | undefined;
  has(name: string): boolean;
}

/** A request that arrived on a leg. */
export interface LegRequest extends HeaderReader {
  readonly method: string;
  readonly body: string;
}

/** A final answer to a request sent on a leg. */
export interface LegAnswer extends HeaderReader {
  readonly status: number;
  readonly reason: string;
  readonly body: string;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
}

/** Answers a received request (srf's Response#send; a reason of undefined sends the standard phrase). */
export interface Responder {
  send(status: number, reason: string | undefined, opts: SendOptions): void;
}

export type AckFn = (opts?: { body: string }) => void;

export interface InDialogRequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** INVITE without SDP: the 2xx's ACK is ours to send, with the answer (RFC 3264 §5). */
  noAck?: boolean;
}

/** One side of a bridged call: an srf Dialog. */
export interface Leg {
  readonly connected: boolean;
  /** what this side last sent (`sdp`) and its Contact (lib/dialog.js `local`). */
  readonly local: { sdp: string; contact?: string };
  readonly remote: { sdp: string };
  /** the BYE that ended the dialog, when the far end sent one (lib/dialog.js `emit('destroy', req)`) */
  on(event: 'destroy', listener: (bye?: LegRequest) => void): unknown;
  on(event: LegEvent, listener: (req: LegRequest, res: Responder) => void): unknown;
  once(event: 'ack', listener: (ack: LegRequest) => void): unknown;
  once(event: 'destroy', listener: () => void): unknown;
  destroy(opts: { headers?: Record<string, string> } | undefined, callback: (err: unknown) => void): unknown;
  request(opts: InDialogRequestOptions, callback: (err: unknown, res: LegAnswer, ack?: AckFn) => void): unknown;
}

// srf's Dialog, with the declarations above, is a Leg: checked here, at compile time.
const dialogIsLeg = (d: Srf.Dialog): Leg => d;
void dialogIsLeg;

/** The INVITE the call sent to a carrier, for CANCEL (RFC 3261 §9.1). */
export interface SentInvite {
  cancel(): void;
}

export interface ProvisionalResponse extends HeaderReader {
  readonly status: number;
  readonly reason: string;
  readonly body: string;
}

export interface CarrierInvite {
  readonly uri: string;
  /** built for this INVITE alone: the stack may add From and Contact to it (lib/srf.js createUAC) */
  readonly headers: Record<string, string>;
  /** the offer; '' sends the INVITE without SDP (delayed offer, RFC 3261 §13.2.1). */
  readonly sdp: string;
  /** From user part; undefined lets the stack pick. */
  readonly callingNumber: string | undefined;
}

/**
 * A carrier's 2xx. With an offer in our INVITE: the dialog (ACKed by the stack). With a delayed
 * offer: the carrier's offer from its 2xx, `ack(answer)` sends the ACK carrying our answer and
 * yields the dialog; `destroy()` ACKs and hangs up an answer nobody wants.
 */
export type CarrierAnswer =
  | { kind: 'dialog'; leg: Leg; response: HeaderReader }
  | { kind: 'offer'; sdp: string; response: HeaderReader; ack(answer: string): Promise<Leg>; destroy(): Promise<void> };

/** A carrier's final non-2xx (or a failure to send: no status, no response). */
export interface CarrierFailure {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly response: HeaderReader | undefined;
}

/** Places INVITEs toward carriers. Rejects with a CarrierFailure. */
export interface CarrierInviter {
  invite(invite: CarrierInvite, events: { sent(req: SentInvite): void; provisional(res: ProvisionalResponse): void }): Promise<CarrierAnswer>;
}

/** Answers the platform's INVITE with a 200 and yields the platform's dialog. */
export interface PlatformAnswerer {
  answer(req: Srf.SrfRequest, res: Srf.SrfResponse, opts: { sdp: string; headers: Record<string, string> }): Promise<Leg>;
}

function isPendingOffer(result: Srf.Dialog | SrfPendingOffer): result is SrfPendingOffer {
  // a Dialog is an EventEmitter; the pending offer is a plain object (lib/srf.js createUAC)
  return !(result instanceof EventEmitter);
}

export function srfCarrierInviter(srf: Srf): CarrierInviter {
  return {
    invite(invite, events) {
      const opts: Srf.CreateUACOptions = { headers: invite.headers };
      // Without localSdp srf sends no body; noAck makes it hand back the carrier's offer so the
      // platform's answer can go in our ACK (RFC 3264 §5) instead of srf's own.
      if (invite.sdp !== '') opts.localSdp = invite.sdp;
      else opts.noAck = true;
      if (invite.callingNumber !== undefined) opts.callingNumber = invite.callingNumber;
      return app(srf)
        .createUAC(invite.uri, opts, {
          cbRequest: (err, req) => {
            if (err || req === undefined) return;
            events.sent({ cancel: () => req.cancel(() => undefined) });
          },
          cbProvisional: (res) => events.provisional(res),
        })
        .then(
          (result): CarrierAnswer => {
            if (!isPendingOffer(result)) return { kind: 'dialog', leg: result, response: dialogResponse(result) };
            return {
              kind: 'offer',
              sdp: result.sdp,
              response: result.res,
              ack: (answer) => result.ack(answer),
              destroy: () => result.destroy(),
            };
          },
          (err: unknown) => {
            const e = (err ?? {}) as SrfSipError;
            const failure: CarrierFailure = {
              status: typeof e.status === 'number' ? e.status : undefined,
              reason: typeof e.reason === 'string' ? e.reason : undefined,
              response: e.res,
            };
            throw failure;
          },
        );
    },
  };
}

/** The 2xx a UAC dialog was created from (lib/dialog.js keeps it as `res`). */
function dialogResponse(dialog: Srf.Dialog): HeaderReader {
  return (dialog as unknown as { res: HeaderReader }).res;
}

export function srfPlatformAnswerer(srf: Srf): PlatformAnswerer {
  return {
    answer: (req, res, opts) => app(srf).createUAS(req, res, { localSdp: opts.sdp, headers: opts.headers }),
  };
}

/**
 * While on, srf holds a leg's incoming requests (BYE included) instead of answering them itself:
 * srf answers INFO, re-INVITE and friends on its own when nobody listens (lib/dialog.js), and
 * the listeners only exist once the other leg does.
 */
export function holdRequests(leg: Leg, on: boolean): void {
  (leg as unknown as Srf.Dialog).queueRequests = on;
}

/**
 * A received message's headers indexed once by canonical name (compact forms expanded, which srf
 * does not do for all of them): one pass over srf's header table (lib/sip-parser/message.js,
 * string values for a received message) instead of the scan SipMessage#get and #has make on
 * every lookup. Repeated headers are one comma-joined value, as srf keeps them.
 */
export function indexHeaders(msg: { readonly headers: Record<string, unknown> }): HeaderReader {
  const index = new Map<string, string>();
  for (const name in msg.headers) {
    const value = msg.headers[name];
    if (typeof value !== 'string') continue;
    const key = canonicalHeaderKey(name);
    const prev = index.get(key);
    index.set(key, prev === undefined ? value : `${prev},${value}`);
  }
  return {
    get: (name) => index.get(canonicalHeaderKey(name)),
    has: (name) => index.has(canonicalHeaderKey(name)),
  };
}

/** Whether an srf request arrived inside a dialog srf knows (its dialog id is set by the stack). */
export function stackDialogId(req: Srf.SrfRequest): string | undefined {
  const id = (req as unknown as { stackDialogId?: string }).stackDialogId;
  return id === '' ? undefined : id;
}

/** Every method srf can route (its `sip-methods` list, lib/srf.js), upper case. */
export const ROUTABLE_METHODS: readonly string[] = SRF_METHODS.map((m) => m.toUpperCase());

/** Registers a handler for one out-of-dialog method (srf.register, srf.subscribe, ...). */
export function routeMethod(srf: Srf, method: string, handler: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void {
  const router = (srf as unknown as Record<string, unknown>)[method.toLowerCase()];
  if (typeof router !== 'function') throw new Error(`drachtio-srf cannot route ${method}`);
  (router as (h: typeof handler) => void).call(srf, handler);
}

/** srf.request with a callback, as the OPTIONS prober sends it. */
export function srfRequester(srf: Srf): Pick<SrfApp, 'request'> {
  return { request: (uri, opts, callback) => app(srf).request(uri, opts, callback) };
}

/**
 * The responses srf can send: Response#send throws for a status missing from its `sip-status`
 * table (lib/response.js). A carrier's other codes are sent as the class's x00 (a UAC treats an
 * unknown final code as x00 and an unknown 1xx as 183, RFC 3261 §8.1.3.2), with the standard
 * phrase, since the carrier's phrase names a code the platform will not see.
 */
export function sendableStatus(status: number, reason: string | undefined): { status: number; reason: string | undefined } {
  if (SENDABLE.has(status)) return { status, reason };
  if (status >= 100 && status < 200) return { status: 183, reason: undefined };
  const base = Math.floor(status / 100) * 100;
  return { status: base >= 300 && base <= 600 ? base : 500, reason: undefined };
}

const SENDABLE: ReadonlySet<number> = new Set(Object.keys(SRF_STATUSES).map(Number));

/** Connects with srf's reconnect back-off capped (lib/wire-protocol.js `reconnect`, untyped). */
export function connectSrf(srf: Srf, to: { host: string; port: number; secret: string }, retryMaxDelayMs: number): void {
  srf.connect({ ...to, reconnect: { retryMaxDelay: retryMaxDelayMs } } as Srf.SrfConfig);
}

// ------------------------------------------------------------------ the in-process wire link
// srf's WireProtocol (lib/wire-protocol.js) only dials TCP or TLS. For the in-process link
// (docs/performance.md §2) its connect() gets one opt-in branch, installed once below: given
// the LINK option it takes a LinkSocket instead of dialling. A LinkSocket is a net.Socket
// without a handle (srf checks `instanceof net.Socket`, lib/drachtio-agent.js typeSocket) whose
// write() hands srf's `<bytes>#<payload>` straight to the link, and whose frames from the edge
// go to WireProtocol's 'msg' event as they are: no framing, no Buffer, no socket.

/** The parts of srf's WireProtocol the link uses (lib/wire-protocol.js). */
interface SrfWireProtocol extends EventEmitter {
  host: string;
  port: number;
  reconnectOpts: { maxAttempts?: number };
  reconnectVars: Record<string, unknown>;
  initializeRetryVars(): void;
  installListeners(socket: net.Socket): void;
  connect(opts: Record<PropertyKey, unknown>): void;
}

const LINK = Symbol('outdial.wire-link');
const WireProtocol = fromSrf('./wire-protocol.js') as { prototype: SrfWireProtocol };
const dialConnect = WireProtocol.prototype.connect;
WireProtocol.prototype.connect = function connect(this: SrfWireProtocol, opts: Record<PropertyKey, unknown>): void {
  const link = opts[LINK] as { socket: LinkSocket } | undefined;
  if (link === undefined) return dialConnect.call(this, opts);
  this.host = 'in-process';
  this.port = 0;
  // One attempt: the link lives and dies with the edge of this process; nothing to redial.
  this.reconnectOpts = { maxAttempts: 1 };
  this.reconnectVars = {};
  this.initializeRetryVars();
  this.installListeners(link.socket);
  link.socket.attach(this);
};

/** An srf-side socket on the in-process link. */
class LinkSocket extends net.Socket {
  private wp: SrfWireProtocol | undefined;
  private sender: LinkSender | undefined;
  private queue: LinkFrame[] = [];
  private head = 0;
  private waiting = false;

  constructor(
    private readonly link: WireLink,
    private readonly onError: (err: unknown) => void,
  ) {
    super();
    Object.defineProperty(this, 'remoteAddress', { value: 'in-process' });
  }

  /** WireProtocol installed its listeners: open the link and say 'connect' as a socket would. */
  attach(wp: SrfWireProtocol): void {
    this.wp = wp;
    this.sender = this.link.open({
      frames: (frames) => this.receive(frames),
      closed: () => {
        if (!this.destroyed) this.destroy();
      },
    });
    setImmediate(() => this.emit('connect'));
  }

  // srf's WireProtocol#send writes one string `<bytes>#<payload>` with a callback.
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const text = typeof chunk === 'string' ? chunk : String(chunk);
    if (this.sender !== undefined && !this.destroyed) this.sender.send(text.slice(text.indexOf('#') + 1));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }

  override end(): this {
    this.destroy();
    return this;
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const sender = this.sender;
    this.sender = undefined;
    this.queue = [];
    this.head = 0;
    sender?.close();
    super._destroy(err, cb);
  }

  private receive(frames: readonly LinkFrame[]): void {
    if (this.destroyed) return;
    if (this.head === this.queue.length) {
      this.queue = frames.slice();
      this.head = 0;
    } else {
      for (const f of frames) this.queue.push(f);
    }
    if (!this.waiting) this.drain(false);
  }

  /** Hands frames to srf in order; an `afterTurn` frame waits for the next macrotask first. */
  private drain(turned: boolean): void {
    this.waiting = false;
    while (this.head < this.queue.length && !this.destroyed) {
      const frame = this.queue[this.head]!;
      let payload: string;
      if (typeof frame === 'string') payload = frame;
      else if (turned) {
        payload = frame.afterTurn;
        turned = false;
      } else {
        this.waiting = true;
        setImmediate(() => this.drain(true));
        return;
      }
      this.head++;
      try {
        this.wp?.emit('msg', this, payload);
      } catch (err) {
        // over TCP this would be an uncaught exception in srf's 'data' handler
        this.onError(err);
      }
    }
    this.queue = [];
    this.head = 0;
  }
}

/**
 * Connects srf over an in-process wire link (docs/performance.md §2). The session (authenticate,
 * routes, 'connect' events) is the one srf runs over TCP; there is no reconnecting.
 */
export function connectSrfLink(srf: Srf, link: WireLink, secret: string, onError: (err: unknown) => void): void {
  const socket = new LinkSocket(link, onError);
  srf.connect({ host: 'in-process', port: 0, secret, [LINK]: { socket } } as unknown as Srf.SrfConfig);
}

/** srf re-emits the connection's 'close' (lib/srf.js constructor); its typings only know 'disconnect'. */
export function onSrfClose(srf: Srf, listener: () => void): void {
  (srf as EventEmitter).on('close', listener);
}

/** The parts of srf's connection internals disconnect needs (lib/proto.js, lib/wire-protocol.js). */
interface SrfWireInternals {
  _app?: { client?: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}

/**
 * Ends the connection and any pending reconnect. srf.disconnect() throws when no socket is open
 * (e.g. between retries) and leaves a scheduled retry running, which would reconnect after close.
 */
export function disconnectSrf(srf: Srf): void {
  const wp = (srf as unknown as SrfWireInternals)._app?.client?.wp;
  if (wp) {
    wp.closing = true;
    if (wp.reconnectVars?.retryTimer) {
      clearTimeout(wp.reconnectVars.retryTimer);
      wp.reconnectVars.retryTimer = null;
    }
  }
  try {
    srf.disconnect();
  } catch {
    // not connected: nothing to end
  }
}
