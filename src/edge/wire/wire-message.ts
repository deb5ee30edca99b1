/**
 * The payload of one drachtio wire frame: a first line of `|`-separated tokens (empty tokens are
 * significant), then optionally CRLF and one raw SIP message. Token 0 is the sender's message id.
 */
import { randomUuid } from '../random-hex.ts';

export interface WirePayload {
  /** token 0: the id chosen by the sender; replies quote it */
  msgId: string;
  /** token 1: authenticate | route | remove_route | ping | sip | proxy | response | ... */
  command: string;
  /** every token after the command */
  args: string[];
  /** the raw SIP message after the first CRLF, if any */
  sip?: string;
}

export function parseWirePayload(payload: string): WirePayload | undefined {
  const crlf = payload.indexOf('\r\n');
  const leader = crlf === -1 ? payload : payload.slice(0, crlf);
  const tokens = leader.split('|');
  const [msgId, command, ...args] = tokens;
  if (!msgId || !command) return undefined;
  const result: WirePayload = { msgId, command, args };
  if (crlf !== -1) result.sip = payload.slice(crlf + 2);
  return result;
}

export function newMessageId(): string {
  return randomUuid();
}

/** drachtio's time token: `hh:mm:ss.uuuuuu` (wall clock, microseconds padded). */
export function wireTime(date?: Date): string {
  if (date !== undefined) return formatWireTime(date);
  // Every frame to the app carries one; within a millisecond the token is the same.
  const now = Date.now();
  if (now !== lastWireTimeMs) {
    lastWireTimeMs = now;
    lastWireTime = formatWireTime(new Date(now));
  }
  return lastWireTime;
}

let lastWireTimeMs = -1;
let lastWireTime = '';

function formatWireTime(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds() * 1000, 6)}`;
}

/** `<u>|response|<msgId>|OK|<data...>` */
export function formatOk(replyTo: string, data: string[] = [], sip?: string): string {
  return withSip([newMessageId(), 'response', replyTo, 'OK', ...data].join('|'), sip);
}

/** `<u>|response|<msgId>|NOK|<reason>` */
export function formatNok(replyTo: string, reason: string): string {
  return [newMessageId(), 'response', replyTo, 'NOK', reason.replaceAll(/[|\r\n]/g, ' ')].join('|');
}

export interface SentMeta {
  bytes: number;
  transport: string;
  address: string;
  port: number;
  txnId: string;
}

/**
 * Echo of a request the edge sent for the app. srf reads (after slicing the first 3 tokens)
 * [0]=OK [1]=source [3]=proto [4]=address [5]=port [6]=time [7]=txnId, then parses the message.
 */
export function formatRequestSent(replyTo: string, meta: SentMeta, raw: string): string {
  return formatOk(
    replyTo,
    ['application', String(meta.bytes), meta.transport, meta.address, String(meta.port), wireTime(), meta.txnId, 'Msg sent:', ''],
    raw,
  );
}

/** Echo of a response the edge sent for the app; token 11 (the dialog id) names a UAS dialog. */
export function formatResponseSent(replyTo: string, meta: SentMeta, dialogId: string, raw: string): string {
  return formatOk(
    replyTo,
    ['application', String(meta.bytes), meta.transport, meta.address, String(meta.port), wireTime(), meta.txnId, dialogId, '', 'Msg sent:', ''],
    raw,
  );
}

export interface NetworkMeta {
  bytes: number;
  transport: string;
  remoteAddress: string;
  remotePort: number;
  txnId: string;
  dialogId: string;
  /** present only for new out-of-dialog requests */
  receivedOn?: { address: string; port: number };
}

/**
 * `<u>|sip|network|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>|[<recvAddr>|<recvPort>|]`
 * srf ignores a `sip` message of 10 tokens or fewer, hence the trailing `|`.
 */
export function formatNetworkSip(meta: NetworkMeta, raw: string): string {
  let leader = `${newMessageId()}|sip|network|${meta.bytes}|${meta.transport}|${meta.remoteAddress}|${meta.remotePort}|${wireTime()}|${meta.txnId}|${meta.dialogId}|`;
  if (meta.receivedOn) leader += `${meta.receivedOn.address}|${meta.receivedOn.port}|`;
  return `${leader}\r\n${raw}`;
}

/** A request the edge itself generated (e.g. BYE on ACK timeout): `sip|application|...|unsolicited|<dialogId>|`. */
export function formatUnsolicited(meta: Omit<NetworkMeta, 'txnId' | 'receivedOn'>, raw: string): string {
  const tokens = [
    newMessageId(),
    'sip',
    'application',
    String(meta.bytes),
    meta.transport,
    meta.remoteAddress,
    String(meta.remotePort),
    wireTime(),
    'unsolicited',
    meta.dialogId,
    '',
  ];
  return withSip(tokens.join('|'), raw);
}

function withSip(leader: string, sip: string | undefined): string {
  return sip === undefined ? leader : `${leader}\r\n${sip}`;
}
