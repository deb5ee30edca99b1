import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { indexHeaders, releaseDialogMessages, ROUTABLE_METHODS, sendableStatus, type Leg } from './srf-adapter.ts';

describe('indexHeaders', () => {
  // srf's header table for a received message: names as its parser left them, string values
  const headers = indexHeaders({
    headers: {
      'call-id': 'abc@192.0.2.1',
      'X-Customer-Id': '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60',
      'P-Asserted-Identity': '<sip:+15550001111@pbx>,<tel:+15550001111>',
      x: '1800;refresher=uac',
      supported: 'timer',
      k: '100rel',
      'max-forwards': '70',
      // a parsed (non-string) value is not a header value
      via: [{ host: '192.0.2.1' }],
    },
  });

  it('finds headers case-insensitively and by compact form', () => {
    expect(headers.get('Call-ID')).toBe('abc@192.0.2.1');
    expect(headers.get('i')).toBe('abc@192.0.2.1');
    expect(headers.get('x-customer-id')).toBe('6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60');
    expect(headers.get('Session-Expires')).toBe('1800;refresher=uac');
    expect(headers.get('MAX-FORWARDS')).toBe('70');
  });

  it('joins a header given in long and compact form, as srf joins repeats', () => {
    expect(headers.get('Supported')).toBe('timer,100rel');
  });

  it('has() and get() agree on absent headers', () => {
    expect(headers.has('Min-SE')).toBe(false);
    expect(headers.get('Min-SE')).toBeUndefined();
    expect(headers.has('via')).toBe(false);
    expect(headers.has('p-asserted-identity')).toBe(true);
  });
});

describe('sendableStatus', () => {
  it.each([
    [486, 'Rejected', 486, 'Rejected'],
    [183, 'Session Progress', 183, 'Session Progress'],
    [199, 'Early Dialog Terminated', 199, 'Early Dialog Terminated'],
    [608, 'Rejected', 600, undefined],
    [607, 'Unwanted', 600, undefined],
    [499, 'Odd', 400, undefined],
    [599, 'Odd', 500, undefined],
    [189, 'Odd', 183, undefined],
    [799, 'Odd', 500, undefined],
  ])('%d %s → %d', (status, reason, out, outReason) => {
    expect(sendableStatus(status, reason)).toEqual({ status: out, reason: outReason });
  });
});

describe('ROUTABLE_METHODS', () => {
  it('is the method list srf builds its routers from', () => {
    expect(ROUTABLE_METHODS).toEqual(expect.arrayContaining(['INVITE', 'REGISTER', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH', 'NOTIFY', 'REFER', 'INFO', 'OPTIONS']));
  });
});

describe('releaseDialogMessages', () => {
  // srf's own Dialog class (lib/dialog.js): its getters are what must keep working on the stand-ins
  const SrfDialog = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'))('./dialog') as { prototype: object };
  const socket = { name: 'the app connection' };
  const agent = { name: 'the agent' };
  const answer = 'v=0\r\no=carrier 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n';
  const offer = 'v=0\r\no=platform 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n';

  function srfDialog(method: string, dialogId: string, local: string, remote: string, headers: Record<string, string> = {}) {
    const req = { method, socket, get: (name: string) => headers[name.toLowerCase()], listeners: ['cancel'] };
    const res = { stackDialogId: dialogId, agent, msg: 'the 2xx' };
    const d = Object.assign(Object.create(SrfDialog.prototype) as Record<string, unknown>, {
      req,
      res,
      sip: { callId: 'c1@192.0.2.10', localTag: 'a', remoteTag: 'b' },
      local: { uri: 'sip:outdial@192.0.2.1', sdp: local, contact: '<sip:outdial@192.0.2.1>' },
      remote: { uri: 'sip:platform@192.0.2.10', sdp: remote },
    });
    return { d, req, res, leg: d as unknown as Leg };
  }

  it('keeps what lib/dialog.js reads after its constructor, and nothing else of the messages', () => {
    const platform = srfDialog('INVITE', 'd-platform;uas', answer, offer);
    const carrier = srfDialog('INVITE', 'd-carrier;uac', offer, answer);
    releaseDialogMessages(platform.leg, carrier.leg);
    for (const [side, id] of [[platform, 'd-platform;uas'], [carrier, 'd-carrier;uac']] as const) {
      expect(side.d['req']).not.toBe(side.req);
      expect(side.d['res']).not.toBe(side.res);
      expect(side.d['id']).toBe(id);
      expect(side.d['dialogType']).toBe('INVITE');
      expect(side.d['socket']).toBe(socket);
      expect(side.d['subscribeEvent']).toBeNull();
      expect((side.d['res'] as { agent: unknown }).agent).toBe(agent);
      expect((side.d['res'] as { msg?: unknown }).msg).toBeUndefined();
    }
    expect((platform.d['local'] as { sdp: string }).sdp).toBe(answer);
    expect((platform.d['remote'] as { sdp: string }).sdp).toBe(offer);
    expect((carrier.d['sip'] as { callId: string }).callId).toBe('c1@192.0.2.10');
    expect((carrier.d['local'] as { contact: string }).contact).toBe('<sip:outdial@192.0.2.1>');
  });

  it('keeps the Event of a SUBSCRIBE dialog, and a second release changes nothing', () => {
    const a = srfDialog('SUBSCRIBE', 'd-sub;uas', '', '', { event: 'presence' });
    const b = srfDialog('INVITE', 'd-b;uac', '', '');
    releaseDialogMessages(a.leg, b.leg);
    const standIn = a.d['req'];
    expect(a.d['subscribeEvent']).toBe('presence');
    releaseDialogMessages(a.leg, b.leg);
    expect(a.d['req']).toBe(standIn);
    expect(a.d['dialogType']).toBe('SUBSCRIBE');
  });

  it('leaves a leg that is not an srf Dialog (a test fake) alone', () => {
    const fake = { connected: true, local: { sdp: answer }, remote: { sdp: offer } } as unknown as Leg;
    expect(() => releaseDialogMessages(fake, fake)).not.toThrow();
    expect(fake.local.sdp).toBe(answer);
  });
});
