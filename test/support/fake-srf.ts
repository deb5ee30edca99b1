/**
 * Socket-free stand-ins for the drachtio-srf objects the call path talks to (the ports in
 * src/call/srf-adapter.ts): a dialog leg, a carrier inviter and the messages between them. Tests
 * drive them by hand and read back what the call path sent, the way srf's Dialog and createUAC
 * would deliver it (event names and callback shapes as in drachtio-srf/lib/dialog.js and srf.js).
 */
import { EventEmitter } from 'node:events';
import type {
  AckFn,
  CarrierAnswer,
  CarrierFailure,
  CarrierInvite,
  CarrierInviter,
  InDialogRequestOptions,
  Leg,
  LegAnswer,
  LegEvent,
  LegRequest,
  ProvisionalResponse,
  Responder,
  SendOptions,
} from '../../src/call/srf-adapter.ts';

/** Header lookup by case-insensitive name, like srf's SipMessage#get / #has. */
export class FakeHeaders {
  private readonly map = new Map<string, string>();

  constructor(headers: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(headers)) this.map.set(k.toLowerCase(), v);
  }

  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
}

export class FakeMessage extends FakeHeaders implements LegRequest, LegAnswer, ProvisionalResponse {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly reason: string,
    readonly body: string,
    headers: Record<string, string> = {},
  ) {
    super(headers);
  }
}

export function fakeRequest(method: string, opts: { body?: string; headers?: Record<string, string> } = {}): FakeMessage {
  return new FakeMessage(method, 0, '', opts.body ?? '', opts.headers);
}

export function fakeAnswer(status: number, reason = '', opts: { body?: string; headers?: Record<string, string> } = {}): FakeMessage {
  return new FakeMessage('', status, reason, opts.body ?? '', opts.headers);
}

export interface Sent {
  readonly status: number;
  readonly reason: string | undefined;
  readonly opts: SendOptions;
}

export class FakeResponder implements Responder {
  readonly sent: Sent[] = [];

  send(status: number, reason: string | undefined, opts: SendOptions): void {
    this.sent.push({ status, reason, opts });
  }

  get last(): Sent | undefined {
    return this.sent.at(-1);
  }
}

/** A request the code under test sent on a leg, waiting for the test to answer it. */
export interface OutgoingRequest {
  readonly opts: InDialogRequestOptions;
  /** answers it as srf would: the response, and for a 2xx to an INVITE sent with noAck the ACK function */
  answer(res: LegAnswer, ack?: AckFn): void;
  fail(err: unknown): void;
}

/** srf's Dialog#handle: which event a method inside the dialog becomes. */
const EVENT_OF: Readonly<Record<string, LegEvent>> = {
  INVITE: 'modify',
  UPDATE: 'update',
  INFO: 'info',
  MESSAGE: 'message',
  NOTIFY: 'notify',
  OPTIONS: 'options',
  REFER: 'refer',
  PUBLISH: 'publish',
};

export class FakeLeg extends EventEmitter implements Leg {
  connected = true;
  readonly local: { sdp: string; contact?: string };
  readonly remote: { sdp: string };
  readonly requests: OutgoingRequest[] = [];
  /** BYEs the code under test sent on this leg */
  byes = 0;
  /** the headers of the last BYE sent on this leg */
  byeHeaders: Record<string, string> | undefined;

  constructor(readonly name: string, opts: { localSdp?: string; remoteSdp?: string } = {}) {
    super();
    this.local = { sdp: opts.localSdp ?? '', contact: `<sip:outdial@127.0.0.1;leg=${name}>` };
    this.remote = { sdp: opts.remoteSdp ?? '' };
  }

  destroy(opts: { headers?: Record<string, string> } | undefined, callback: (err: unknown) => void): this {
    this.byes++;
    this.byeHeaders = opts?.headers;
    this.connected = false;
    callback(this.byes > 1 ? new Error('dialog already gone') : undefined);
    return this;
  }

  request(opts: InDialogRequestOptions, callback: (err: unknown, res: LegAnswer, ack?: AckFn) => void): this {
    this.requests.push({
      opts,
      answer: (res, ack) => callback(null, res, ack),
      fail: (err) => callback(err, undefined as unknown as LegAnswer),
    });
    return this;
  }

  /** The far end sends `req` in this dialog; returns the responder the code under test answers on. */
  receive(req: FakeMessage): FakeResponder {
    const res = new FakeResponder();
    const event = EVENT_OF[req.method];
    if (event === undefined) throw new Error(`no srf dialog event for ${req.method}`);
    if (event === 'modify' && req.body) this.remote.sdp = req.body;
    if (this.listenerCount(event) === 0) throw new Error(`nobody listens for ${event} on ${this.name}`);
    this.emit(event, req, res);
    return res;
  }

  /** The far end's ACK (for our 2xx). */
  receiveAck(body = ''): void {
    this.emit('ack', fakeRequest('ACK', { body }));
  }

  /** The far end's BYE: srf answers it 200 and emits 'destroy' with it. */
  receiveBye(headers?: Record<string, string>): void {
    this.connected = false;
    this.emit('destroy', fakeRequest('BYE', headers ? { headers } : {}));
  }

  /** The last request sent on this leg. */
  get lastRequest(): OutgoingRequest | undefined {
    return this.requests.at(-1);
  }
}

/** One INVITE the code under test placed through the FakeInviter, driven by the test. */
export class PlacedInvite {
  cancels = 0;
  private resolve!: (answer: CarrierAnswer) => void;
  private reject!: (failure: CarrierFailure) => void;
  readonly result: Promise<CarrierAnswer>;

  constructor(
    readonly invite: CarrierInvite,
    private readonly events: { sent(req: { cancel(): void }): void; provisional(res: ProvisionalResponse): void },
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // a rejection the code under test has not awaited yet must not count as unhandled
    this.result.catch(() => undefined);
  }

  /** The stack echoed the INVITE (srf's cbRequest). */
  sent(): void {
    this.events.sent({ cancel: () => this.cancels++ });
  }

  provisional(status: number, reason: string, body = ''): void {
    this.events.provisional(fakeAnswer(status, reason, { body }));
  }

  /** A 2xx: the carrier's dialog (srf has ACKed it). */
  answer(leg: FakeLeg, headers: Record<string, string> = {}): void {
    this.resolve({ kind: 'dialog', leg, response: new FakeHeaders(headers) });
  }

  fail(status: number | undefined, reason?: string, headers: Record<string, string> = {}): void {
    this.reject({ status, reason, response: status === undefined ? undefined : new FakeHeaders(headers) });
  }
}

export class FakeInviter implements CarrierInviter {
  readonly placed: PlacedInvite[] = [];

  invite(invite: CarrierInvite, events: { sent(req: { cancel(): void }): void; provisional(res: ProvisionalResponse): void }): Promise<CarrierAnswer> {
    const p = new PlacedInvite(invite, events);
    this.placed.push(p);
    return p.result;
  }

  get last(): PlacedInvite {
    const p = this.placed.at(-1);
    if (p === undefined) throw new Error('no INVITE placed');
    return p;
  }
}

/** Lets promise callbacks (srf's and ours) run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
