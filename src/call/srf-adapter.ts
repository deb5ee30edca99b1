/**
 * drachtio-srf 5, as the call path uses it. Every gap in srf's typings (lib/@types/index.d.ts)
 * and every reach into its internals sits in this module, so an srf upgrade breaks here and only
 * here: among them the extension of srf's digest client (RFC 7616 algorithms and qop, a
 * challenge answered once) and REGISTER through srf.request. The call path itself talks to the small ports declared below (Leg, CarrierInviter,
 * PlatformAnswerer), which srf's objects satisfy and test fakes implement.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import type Srf from 'drachtio-srf';
import type { LinkFrame, LinkSender, WireLink } from '../edge/wire/wire-link.ts';
import { ownString } from '../sip/own-string.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';
import { authorizationValue, chooseChallenge, parseChallenges } from './digest-auth.ts';
import { firstHeaderKey, lazyParseSipMessage, rememberedHeaderName, type SrfLazyMessage } from './srf-parser-shortcuts.ts';

// srf's own dependencies, resolved from srf's directory: the method list its routers are made
// from (lib/srf.js) and the status table Response#send checks against (lib/response.js).
const fromSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));
const SRF_METHODS = fromSrf('sip-methods') as string[];
const SRF_STATUSES = fromSrf('sip-status') as Record<string, string>;
// srf's digest client (lib/digest-client.js), the one class its agent answers 401/407 with.
const SrfDigestClient = fromSrf('./digest-client') as { prototype: DigestClientInternals };

// ------------------------------------------------------------------ srf's parser, served faster
/** srf's lib/sip-parser/parser.js and message.js (5.0.29), whose functions the shortcuts equal. */
export const SRF_PARSER_SOURCES: Readonly<Record<string, string>> = {
  './sip-parser/parser.js': '7f16b5af42eb6800a914364a971704cca0ea9d966bd81b23fd471bf8cec7625c',
  './sip-parser/message.js': '4d44311ce441d1748bc3933a73ebb6ba85ccc6a65ca0efaae8ef32209602a075',
};

interface SrfParserModule {
  parseSipMessage(text: string | Buffer, lazy?: boolean): SrfLazyMessage | undefined;
  getHeaderName(raw: string): string;
}
interface SrfSipMessageClass {
  prototype: { headers: Record<string, unknown>; getHeaderName(hdr: string): string | undefined };
}

let parserShortcuts: boolean | undefined;

/**
 * Puts the equivalents of src/call/srf-parser-shortcuts.ts in place of srf's lazy message parse,
 * its header-name canonicalization and SipMessage#getHeaderName (docs/performance.md §12), once per
 * process, and only when srf's parser files are byte for byte the ones they were checked against:
 * another srf keeps its own functions (returns false), and the test of this function says so.
 */
export function installSrfParserShortcuts(): boolean {
  if (parserShortcuts !== undefined) return parserShortcuts;
  parserShortcuts = Object.entries(SRF_PARSER_SOURCES).every(
    ([file, sha256]) => createHash('sha256').update(readFileSync(fromSrf.resolve(file))).digest('hex') === sha256,
  );
  if (!parserShortcuts) return false;
  const parser = fromSrf('./sip-parser/parser.js') as SrfParserModule;
  const SipMessage = fromSrf('./sip-parser/message.js') as SrfSipMessageClass;
  const originalParse = parser.parseSipMessage.bind(parser);
  const headerName = rememberedHeaderName(parser.getHeaderName.bind(parser), process.env);
  parser.getHeaderName = headerName;
  parser.parseSipMessage = (text, lazy) =>
    lazy === true && typeof text === 'string' ? lazyParseSipMessage(text, headerName, originalParse) : originalParse(text, lazy);
  SipMessage.prototype.getHeaderName = function getHeaderName(hdr: string) {
    return firstHeaderKey(this.headers, hdr);
  };
  return true;
}

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
  interface SrfRequest {
    /** srf's Request is an EventEmitter (lib/request.js); its typings only declare on() */
    removeListener(event: 'cancel', listener: () => void): this;
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
    opts: Omit<Srf.CreateUACOptions, 'auth'> & { auth?: SrfAuth },
    callbacks: { cbRequest(err: unknown, req?: Srf.SrfRequest): void; cbProvisional(res: Srf.SrfResponse): void },
  ): Promise<Srf.Dialog | SrfPendingOffer>;
  createUAS(req: Srf.SrfRequest, res: Srf.SrfResponse, opts: { localSdp: string; headers?: Record<string, string> }): Promise<Srf.Dialog>;
  request(
    uri: string,
    opts: { method: string; headers: Record<string, string>; auth?: SrfAuth },
    callback: (err: unknown, req: { on(event: 'response', listener: (res: SrfRequestResponse) => void): unknown; get?(name: string): string | undefined }) => void,
  ): unknown;
}

/** A response to srf.request (lib/response.js). */
interface SrfRequestResponse {
  readonly status: number;
  readonly reason?: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}

function app(srf: Srf): SrfApp {
  extendSrfDigest();
  return srf as unknown as SrfApp;
}

// ------------------------------------------------------------------ digest (RFC 3261 §22, RFC 7616)

/** srf's `auth` option, in the callback form it accepts besides {username, password} (lib/digest-client.js). */
type SrfAuth =
  | { username: string; password: string }
  | ((req: unknown, res: unknown, callback: (err: Error | null, username?: string, password?: string) => void) => void);

/** The request options srf keeps on a sent request as `_originalParams.options` (lib/drachtio-agent.js). */
interface SrfRequestOptions {
  method: string;
  uri?: string;
  headers?: Record<string, string>;
  body?: string;
  auth?: SrfAuth;
  proxy?: string;
  stackDialogId?: string;
}

interface SrfAgentInternals {
  request(options: SrfRequestOptions, callback: (err: unknown, req?: unknown) => void): void;
  /** per wire connection: call-ids whose challenge is being answered (lib/drachtio-agent.js) */
  mapServer?: Map<unknown, { pendingSipAuthRequests?: Map<string, unknown> }>;
  pendingSipAuthTxnIdUpdate?: Map<string, unknown>;
}

/** What srf's DigestClient holds: the challenge response, the challenged request, the agent (lib/digest-client.js). */
interface DigestClientInternals {
  res: { readonly statusCode: number; readonly socket: unknown; get(name: string): string | undefined };
  req: {
    readonly uri: string;
    readonly method: string;
    readonly body?: string;
    readonly stackTxnId?: string;
    get(name: string): string | undefined;
    _originalParams: { options: SrfRequestOptions };
  };
  agent: SrfAgentInternals;
  authenticate(callback: (err: Error | null, req?: unknown) => void): void;
}

const srfAuthenticate = SrfDigestClient.prototype.authenticate;
let digestExtended = false;

/** How often one request was sent with our credentials, and whether a stale nonce was retried. */
const credentialedSends = new WeakMap<SrfRequestOptions, { sends: number; staleRetried: boolean }>();

/**
 * drachtio-srf answers 401/407 itself, on the embedded edge and on drachtio-server alike: same
 * Call-ID and From tag, the next CSeq, the request sent again, the new transaction taking over
 * the old one's listeners and CANCEL (lib/drachtio-agent.js, lib/digest-client.js). Its digest
 * computes MD5 only and copies the server's qop list as it came ("auth,auth-int" is sent as is).
 * This keeps srf's retry and replaces only the Authorization it computed, with one from
 * digest-auth.ts: MD5, SHA-256 and SHA-512-256 (and -sess), a qop chosen from the list, the
 * Request-URI the stack really sent as digest-uri (srf uses `sip:placeholder` in a dialog). It
 * also answers a challenge only once per request: a second challenge after our credentials
 * means they were refused (RFC 3261 §22.2), and the response goes to the application as it is;
 * only a `stale=true` challenge (RFC 7616 §3.3: good credentials, old nonce) is answered once more.
 */
function extendSrfDigest(): void {
  if (digestExtended) return;
  digestExtended = true;
  SrfDigestClient.prototype.authenticate = function authenticate(this: DigestClientInternals, callback) {
    answerChallenge(this, callback);
  };
}

function answerChallenge(client: DigestClientInternals, callback: (err: Error | null, req?: unknown) => void): void {
  const options = client.req._originalParams.options;
  const proxyChallenge = client.res.statusCode === 407;
  const challenge = chooseChallenge(parseChallenges(client.res.get(proxyChallenge ? 'Proxy-Authenticate' : 'WWW-Authenticate') ?? ''));
  const fail = (why: string) => {
    forgetPendingChallenge(client);
    callback(new Error(why));
  };
  if (!challenge) return fail(`no Digest challenge outdial can answer in the ${client.res.statusCode}`);
  const sent = credentialedSends.get(options) ?? { sends: 0, staleRetried: false };
  if (sent.sends > 0) {
    if (!challenge.stale || sent.staleRetried) return fail('the credentials were refused');
    sent.staleRetried = true;
  }
  sent.sends++;
  credentialedSends.set(options, sent);

  const given = options.auth;
  let credentials: { username: string; password: string } | undefined;
  // srf asks for the credentials through options.auth; this catches them on the way.
  options.auth = (req, res, cb) => {
    const answer = (err: Error | null, username?: string, password?: string) => {
      if (!err && username !== undefined && password !== undefined) credentials = { username, password };
      cb(err, username, password);
    };
    if (typeof given === 'function') given(req, res, answer);
    else if (given) answer(null, given.username, given.password);
    else answer(new Error('no credentials'));
  };
  const agent = client.agent;
  const restore = () => {
    options.auth = given;
    client.agent = agent;
  };
  // srf ends by sending through its agent: the request goes out with our Authorization instead.
  client.agent = Object.create(agent, {
    request: {
      value: (opts: SrfRequestOptions, cb: (err: unknown, req?: unknown) => void) => {
        restore();
        const headers = (opts.headers ??= {});
        // srf writes `call-id` in lower case beside a `Call-ID` the application set (a REGISTER
        // keeps its Call-ID, RFC 3261 §10.2.4): one header must go out, not two.
        dropDuplicateHeaders(headers);
        if (credentials) {
          headers[proxyChallenge ? 'Proxy-Authorization' : 'Authorization'] = authorizationValue({
            challenge,
            username: credentials.username,
            password: credentials.password,
            method: client.req.method,
            uri: client.req.uri,
            body: opts.body ?? client.req.body ?? '',
          });
        }
        // srf pins a retry to the challenger's address; inside a dialog the stack routes by the
        // dialog's route set and remote target (RFC 3261 §12.2.1.1), never by a proxy.
        if (opts.stackDialogId) delete opts.proxy;
        agent.request(opts, cb);
      },
    },
  }) as SrfAgentInternals;
  try {
    srfAuthenticate.call(client, (err, req) => {
      restore();
      if (err) forgetPendingChallenge(client);
      callback(err, req);
    });
  } catch (err) {
    restore();
    fail(err instanceof Error ? err.message : String(err));
  }
}

/** Keeps the last of header keys that differ only in case (the value srf wrote last). */
function dropDuplicateHeaders(headers: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    const earlier = seen.get(lower);
    if (earlier !== undefined) delete headers[earlier];
    seen.set(lower, key);
  }
}

/**
 * srf marks a Call-ID while it answers its challenge and forgets it at the next response of that
 * Call-ID (lib/drachtio-agent.js). When the challenge is not answered no such response comes, and
 * the mark would make srf pass the next challenge with that Call-ID (a REGISTER refresh) up
 * unanswered: it is removed here.
 */
function forgetPendingChallenge(client: DigestClientInternals): void {
  const callId = client.req.get('Call-ID');
  if (callId !== undefined) client.agent.mapServer?.get(client.res.socket)?.pendingSipAuthRequests?.delete(callId);
  if (client.req.stackTxnId !== undefined) client.agent.pendingSipAuthTxnIdUpdate?.delete(client.req.stackTxnId);
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
  /**
   * The trunk's digest credentials (RFC 3261 §22.2), used when the carrier challenges this INVITE
   * and the requests of its dialog. The password is asked for only then.
   */
  readonly auth?: DigestCredentials;
}

export interface DigestCredentials {
  readonly username: string;
  password(): string;
}

/** srf's auth option for credentials: the password is read only when a challenge comes. */
function srfAuthOf(credentials: DigestCredentials, onChallenge?: () => void): SrfAuth {
  return (_req, _res, callback) => {
    onChallenge?.();
    let password: string;
    try {
      password = credentials.password();
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    callback(null, credentials.username, password);
  };
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
  /**
   * A 401/407 to an INVITE sent with credentials: the challenge was answered and the carrier
   * refused our credentials, or it could not be answered (docs/routing.md §4).
   */
  readonly authFailed?: boolean;
}

export interface InviteEvents {
  sent(req: SentInvite): void;
  provisional(res: ProvisionalResponse): void;
  /** the carrier challenged and the credentials are being sent */
  challenged?(): void;
}

/** Places INVITEs toward carriers. Rejects with a CarrierFailure. */
export interface CarrierInviter {
  invite(invite: CarrierInvite, events: InviteEvents): Promise<CarrierAnswer>;
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
      const opts: Omit<Srf.CreateUACOptions, 'auth'> & { auth?: SrfAuth } = { headers: invite.headers };
      if (invite.auth) opts.auth = srfAuthOf(invite.auth, () => events.challenged?.());
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
            const status = typeof e.status === 'number' ? e.status : undefined;
            const failure: CarrierFailure = {
              status,
              reason: typeof e.reason === 'string' ? e.reason : undefined,
              response: e.res,
              // srf answers a first challenge itself: one that reaches us was not answered or not accepted.
              ...(invite.auth !== undefined && (status === 401 || status === 407) ? { authFailed: true } : {}),
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
 * Once a leg is bridged, srf's Dialog needs of the messages it was made from only what its
 * getters read (lib/dialog.js: \`id\` from the response's stackDialogId, \`dialogType\` and
 * \`subscribeEvent\` from the request's method and Event, \`socket\` from the request). It keeps
 * the whole request and response instead: their SipMessages, the wire frames their strings are
 * sliced from, and every listener srf and the app put on the request while the INVITE was open.
 * This swaps both for stand-ins with those four values, copied flat (docs/performance.md §9),
 * and lets the two legs share an SDP they hold twice (the carrier's answer is the platform's).
 */
export function releaseDialogMessages(platform: Leg, carrier: Leg): void {
  const p = releaseMessages(platform);
  const c = releaseMessages(carrier);
  if (p?.local === undefined || p.remote === undefined || c?.local === undefined || c.remote === undefined) return;
  if (p.local['sdp'] === c.remote['sdp']) p.local['sdp'] = c.remote['sdp'];
  if (p.remote['sdp'] === c.local['sdp']) p.remote['sdp'] = c.local['sdp'];
}

function releaseMessages(leg: Leg): DialogInternals | undefined {
  const dialog = leg as unknown as DialogInternals;
  const { req, res } = dialog;
  if (req === undefined || res === undefined || req instanceof ReleasedRequest) return undefined;
  dialog.req = new ReleasedRequest(req.method, req.socket, req.method === 'SUBSCRIBE' ? req.get('Event') : undefined);
  dialog.res = { stackDialogId: ownString(res.stackDialogId), agent: res.agent };
  // srf's parser slices these from the message text, each keeping all of it
  flattenStrings(dialog.sip);
  flattenStrings(dialog.local);
  flattenStrings(dialog.remote);
  return dialog;
}

/** What lib/dialog.js keeps of the messages a Dialog is made from, and reads after its constructor. */
interface DialogInternals {
  req: { readonly method: string; readonly socket: unknown; get(name: string): string | undefined };
  res: { readonly stackDialogId: string; readonly agent: unknown };
  sip?: Record<string, unknown>;
  local?: Record<string, unknown>;
  remote?: Record<string, unknown>;
}

const EVENT_KEY = canonicalHeaderKey('Event');

class ReleasedRequest {
  readonly method: string;
  private readonly event: string | undefined;

  constructor(
    method: string,
    readonly socket: unknown,
    event: string | undefined,
  ) {
    this.method = ownString(method);
    this.event = event === undefined ? undefined : ownString(event);
  }

  get(name: string): string | undefined {
    return canonicalHeaderKey(name) === EVENT_KEY ? this.event : undefined;
  }
}

function flattenStrings(fields: Record<string, unknown> | undefined): void {
  if (fields === undefined) return;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (typeof value === 'string') fields[key] = ownString(value);
  }
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

// ------------------------------------------------------------------ REGISTER (RFC 3261 §10)

export interface RegisterRequest {
  /** the registrar: `sip:<host>[;transport=...]` (RFC 3261 §10.2) */
  readonly uri: string;
  /** From, To, Call-ID, CSeq, Contact, Expires */
  readonly headers: Record<string, string>;
  readonly auth: DigestCredentials;
}

/** The registrar's final answer (after srf answered a challenge, if one came). */
export interface RegisterAnswer extends HeaderReader {
  readonly status: number;
  readonly reason: string;
  /** a 401/407 that reached us: the credentials were refused or the challenge could not be answered */
  readonly authFailed: boolean;
  /** the Contact the stack sent (srf's echo of the request), to find our binding in the 2xx */
  readonly sentContact: string | undefined;
}

export interface RegisterSender {
  /** Resolves with the final response; rejects when the request could not be handed to the stack. */
  register(req: RegisterRequest): Promise<RegisterAnswer>;
}

/** REGISTER through srf.request, with srf's digest (extended above) answering the registrar's challenge. */
export function srfRegisterSender(srf: Srf): RegisterSender {
  return {
    register: (req) =>
      new Promise((resolve, reject) => {
        app(srf).request(req.uri, { method: 'REGISTER', headers: { ...req.headers }, auth: srfAuthOf(req.auth) }, (err, sent) => {
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          const sentContact = sent.get?.('Contact');
          sent.on('response', (res) => {
            if (res.status < 200) return;
            resolve({
              sentContact,
              status: res.status,
              reason: res.reason ?? '',
              authFailed: res.status === 401 || res.status === 407,
              get: (name) => res.get(name),
              has: (name) => res.has(name),
            });
          });
        });
      }),
  };
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
    if (typeof done === 'function') queueMicrotask(done as () => void);
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

  private readonly drainTurned = (): void => this.drain(true);

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
        setImmediate(this.drainTurned);
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
