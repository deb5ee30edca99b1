/**
 * The parts of drachtio-srf's API its type declarations leave out or get wrong, in one place:
 * routing SUBSCRIBE and BYE, createUAS without SDP, in-dialog requests with plain options, a
 * dialog's id, a response's send() with a PRACK callback, request() naming a dialog.
 */
import type Srf from 'drachtio-srf';

type Handler = (req: SrfReq, res: SrfRes) => void;
export interface SrfReq {
  method: string;
  body: string;
  get(name: string): string | undefined;
  on(event: string, fn: (...args: unknown[]) => void): void;
}
export interface SrfRes {
  send(status: number, opts?: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown) => void, fnPrack?: (prack: unknown) => void): void;
}
export interface SrfDialog {
  id: string;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<unknown>;
  destroy(): Promise<unknown>;
  on(event: string, fn: (...args: unknown[]) => void): void;
}

interface Loose {
  subscribe(h: Handler): void;
  bye(h: Handler): void;
  createUAS(req: unknown, res: unknown, opts: object): Promise<SrfDialog>;
  request(uri: string, opts: object): Promise<{ method: string }>;
}

const loose = (srf: Srf): Loose => srf as unknown as Loose;

export function onSubscribe(srf: Srf, h: Handler): void {
  loose(srf).subscribe(h);
}

export function onBye(srf: Srf, h: Handler): void {
  loose(srf).bye(h);
}

export function createUas(srf: Srf, req: unknown, res: unknown, opts: object = {}): Promise<SrfDialog> {
  return loose(srf).createUAS(req, res, opts);
}

/** `srf.request` in a dialog the app knows only by id (a reconnected app). */
export function requestInDialog(srf: Srf, method: string, dialogId: string): Promise<{ method: string }> {
  return loose(srf).request('sip:placeholder', { method, stackDialogId: dialogId });
}

export function dialogIdOf(dialog: unknown): string {
  return (dialog as SrfDialog).id;
}

export function sendWithPrack(res: unknown, status: number, opts: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown) => void, fnPrack?: (prack: unknown) => void): void {
  (res as SrfRes).send(status, opts, cb, fnPrack);
}
