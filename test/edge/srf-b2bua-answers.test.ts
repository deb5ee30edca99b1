/**
 * How drachtio-srf's createB2BUA answers the caller through the edge, over UDP and TCP, with
 * sipp as caller and callee; two flows of drachtio-srf's own test/b2b.js:
 * - "b2b sets tag on 200 OK": the app answers the caller with `To: tag=<the B leg's Call-ID>`,
 *   so the Call-ID the edge made must be usable as a tag (a token, RFC 3261 25.1) for the
 *   caller's ACK and BYE to be well-formed (docs/edge.md §3.1);
 * - "b2b 3pcc UAS failure does not crash and tears down the B leg": a caller offering no SDP,
 *   and building the answer for it fails after the callee answered: the caller gets the app's
 *   480, the callee gets ACK and BYE.
 * And the converse of the first: an app tag that is no token is not sent (drachtio-server's
 * sofia-sip cannot parse such a To); the app is told, and the caller gets 500.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, SDP, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp, type SippResult } from '../support/sipp.ts';
import type { SrfRes } from '../support/srf-untyped.ts';

let h: EdgeHarness | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

function expectSuccess(r: SippResult, harness: EdgeHarness, who: string): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${harness.logs.text().slice(-4000)}`).toBe(0);
}

function calleeUri(port: number, transport: 'udp' | 'tcp'): string {
  return `sip:callee@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

/** The first message in a sipp trace that starts with `startLine`, up to its blank line. */
function firstMessage(trace: string, startLine: RegExp): string {
  const lines = trace.split(/\r?\n/);
  const at = lines.findIndex((l) => startLine.test(l));
  if (at < 0) return '';
  const end = lines.findIndex((l, i) => i > at && l.trim() === '');
  return lines.slice(at, end < 0 ? undefined : end).join('\n');
}

function headerOf(message: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(message)?.[1]?.trim();
}

describe.each(['udp', 'tcp'] as const)('srf B2BUA answers over %s', (transport) => {
  it('the caller answered with To: tag=<B leg Call-ID> ACKs and hangs up in that dialog', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'uas-answer.xml', transport, timeoutSec: 15 });
    const ended: string[] = [];
    srf.invite((req, res) => {
      srf
        .createB2BUA(req, res, calleeUri(callee.port, transport), {
          localSdpB: req.body,
          // drachtio-srf test/b2b.js "b2b sets tag on 200 OK"; srf passes the B leg's response
          // (its declarations say a header map)
          responseHeaders: ((uacRes: { get: (name: string) => string }) => ({ To: `tag=${uacRes.get('Call-ID')}` })) as unknown as
            (uacRes: unknown, headers: unknown) => Record<string, string>,
        })
        .then(({ uas, uac }) => {
          uas.on('destroy', () => {
            ended.push('a');
            uac.destroy();
          });
          uac.on('destroy', () => {
            ended.push('b');
            uas.destroy();
          });
        })
        .catch(() => ended.push('failed'));
    });
    const caller = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, h, 'caller');
    expectSuccess(re, h, 'callee');
    await waitFor(() => ended.length > 0, 2000, 'a leg to end');
    expect(ended).toEqual(['a']);
    // the caller's dialog carries the B leg's Call-ID as its To tag, as the app asked
    const bCallId = headerOf(firstMessage(re.messages, /^INVITE sip:/), 'Call-ID');
    expect(bCallId).toBeTruthy();
    const answer = firstMessage(rc.messages, /^SIP\/2\.0 200 /);
    expect(headerOf(answer, 'To')).toMatch(new RegExp(`;tag=${(bCallId ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(h.logs.text()).not.toMatch(/sip message malformed/);
  }, 30_000);

  it('a failing answer for a 3pcc caller gets it a 480 and tears the answered callee down', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'uas-answer.xml', transport, timeoutSec: 15 });
    let failure: unknown;
    srf.invite((req, res) => {
      srf
        .createB2BUA(req, res, calleeUri(callee.port, transport), {
          localSdpA: () => {
            throw new Error('no answer for the caller');
          },
        })
        .catch((e: unknown) => {
          failure = e;
          if (!res.finalResponseSent) res.send(480);
        });
    });
    const caller = await startSipp({ scenario: 'uac-3pcc-nosdp.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, h, 'caller');
    expectSuccess(re, h, 'callee');
    await waitFor(() => failure !== undefined, 2000, 'B2BUA to fail');
    expect(String(failure)).toMatch(/no answer for the caller/);
    expect(rc.messages).not.toMatch(/^SIP\/2\.0 200 /m);
    expect(rc.messages).toMatch(/^SIP\/2\.0 480 /m);
    // the callee was ACKed and hung up by the B2BUA (uas-answer.xml requires both)
    expect(re.messages).toMatch(/^ACK sip:/m);
    expect(re.messages).toMatch(/^BYE sip:/m);
  }, 30_000);

  it('an app answer whose To tag is no token is refused and the caller gets 500', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const sendErr: unknown[] = [];
    srf.invite((_req, res) => {
      // srf's declarations leave out send(status, opts, callback)
      (res as unknown as SrfRes).send(200, { headers: { To: 'tag=abc@127.0.0.1' }, body: SDP }, (err: unknown) => sendErr.push(err));
    });
    const caller = await startSipp({ scenario: 'uac-500.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const rc = await caller.done;
    expectSuccess(rc, h, 'caller');
    await waitFor(() => sendErr.length > 0, 2000, 'the send to be refused');
    expect(String(sendErr[0])).toMatch(/Unknown server error sending response/);
    expect(rc.messages).not.toMatch(/^SIP\/2\.0 200 /m);
    expect(rc.messages).not.toMatch(/tag=abc@/);
  }, 30_000);
});
