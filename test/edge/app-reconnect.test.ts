/**
 * An application that disconnects does not take its calls down (docs/edge.md §5), as with
 * drachtio-server: the dialog stays, an app that connects later can go on with it (here: hang it
 * up), and an app with the same srf tags takes the peer's requests in it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { connectSrf, disconnectSrf, startEdgeHarness, SDP, TEST_SECRET, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp } from '../support/sipp.ts';
import { dialogIdOf, onBye, requestInDialog } from '../support/srf-untyped.ts';

let h: EdgeHarness | undefined;
const apps: Srf[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) disconnectSrf(a);
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

async function app(tags?: string[]): Promise<Srf> {
  const srf = tags ? new Srf(tags) : new Srf();
  apps.push(srf);
  await connectSrf(srf, h!.edge.wireAddress, TEST_SECRET);
  return srf;
}

describe.each(['udp', 'tcp'] as const)('an app that leaves over %s', (transport) => {
  it('keeps its call up; an app that connects later hangs it up in the same dialog', async () => {
    h = await startEdgeHarness();
    const first = await app();
    let dialogId = '';
    first.invite((req, res) => {
      void first.createUAS(req, res, { localSdp: SDP }).then((d) => (dialogId = dialogIdOf(d))).catch(() => undefined);
    });
    const caller = await startSipp({ scenario: 'uac-wait-bye.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    await waitFor(() => dialogId !== '' && h!.edge.stats().retransmitters === 0, 5000, 'call answered and ACKed');
    disconnectSrf(first);
    await waitFor(() => h!.logs.lines.some((l) => l.msg === 'app disconnected'), 2000, 'app gone');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.edge.stats().dialogs).toBe(1);
    expect(h.logs.lines.some((l) => l.msg === 'dialog kept after its app left')).toBe(true);

    const second = await app();
    const bye = await requestInDialog(second, 'BYE', dialogId);
    expect(bye.method).toBe('BYE');
    const r = await caller.done;
    expect(r.code, describeSipp(r)).toBe(0);
    await waitFor(() => h!.edge.stats().dialogs === 0, 3000, 'dialog gone after the BYE');
  });

  it('an app with the same srf tags takes the caller BYE in the dialog', async () => {
    h = await startEdgeHarness();
    const first = await app(['conf']);
    let answered = false;
    first.invite((req, res) => void first.createUAS(req, res, { localSdp: SDP }).then(() => (answered = true)).catch(() => undefined));
    // the caller hangs up 800 ms after the ACK; the answering app is gone by then
    const caller = await startSipp({ scenario: 'edge/uac-bye-later.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    await waitFor(() => answered && h!.edge.stats().retransmitters === 0, 5000, 'answered and ACKed');
    const heir = await app(['conf']);
    let byes = 0;
    onBye(heir, (_req, res) => {
      byes++;
      res.send(200);
    });
    disconnectSrf(first);
    const r = await caller.done;
    expect(r.code, describeSipp(r)).toBe(0);
    expect(byes).toBe(1);
    await waitFor(() => h!.edge.stats().dialogs === 0, 2000, 'dialog gone');
  });
});
