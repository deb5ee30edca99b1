import { parse, write, type MediaDescription } from 'sdp-transform';

/**
 * The SDP offer toward one provider (docs/routing.md §3), parsed and written with sdp-transform.
 *
 * - Empty codec list → the offer is returned unchanged (the very same string).
 * - Each active audio m-line keeps only the payload types whose encoding name is in the list
 *   (case-insensitive), in the provider's list order; payload types sharing a name (opus variants,
 *   PCMU at two rates) keep their offer order within that name. Their a=rtpmap, a=fmtp and
 *   a=rtcp-fb lines stay; the others' go. `a=rtcp-fb:*` lines apply to all and stay.
 * - Static payload types 0, 3, 4, 8, 9, 18 are known without a=rtpmap (RFC 3551 §6).
 * - telephone-event (RFC 4733 §7.1.1) is kept, after the codecs, at each rate a kept codec has:
 *   its clock rate must be that of the audio it accompanies (RFC 4733 §2.1), so a PCMA-only
 *   provider gets telephone-event/8000 and not /48000 or /16000. It never counts as the common
 *   codec (DTMF alone carries no voice), and its place in the provider list does not matter.
 * - An active audio m-line with no common codec → 488 (RFC 3261 §21.4.26).
 * - Video and other m-lines are left as they are: provider codec lists name PSTN voice codecs, and
 *   declining a stream is the answerer's job (RFC 3264 §6, port 0 in the answer). Touching them would
 *   only break BUNDLE groups or simulcast for carriers that do accept video.
 * - Audio m-lines with port 0 (already declined, RFC 3264 §8.2) are left as they are.
 * - An SDP without any active audio m-line is returned unchanged: the list has nothing to apply to.
 * - When filtering keeps every payload type in its original order, the original string is returned.
 */
export type CodecFilterResult = { ok: true; sdp: string } | { ok: false; status: 488 };

const TELEPHONE_EVENT = 'telephone-event';

/** RFC 3551 §6 Table 4: static audio payload types a sender may use without a=rtpmap. */
const STATIC_AUDIO: ReadonlyMap<number, string> = new Map([
  [0, 'pcmu'],
  [3, 'gsm'],
  [4, 'g723'],
  [8, 'pcma'],
  [9, 'g722'],
  [18, 'g729'],
]);

/** The provider's stored list as names, spelling kept: "PCMA,PCMU" → ["PCMA", "PCMU"]. */
export function splitCodecList(codecs: string): string[] {
  return codecs.split(',').map((c) => c.trim()).filter((c) => c !== '');
}

/** "PCMA, pcmu" → ["pcma", "pcmu"]: trimmed, lower-cased, empty elements and duplicates dropped. */
export function parseCodecList(codecs: string | readonly string[]): string[] {
  const items = typeof codecs === 'string' ? codecs.split(',') : codecs;
  const out: string[] = [];
  for (const item of items) {
    const name = item.trim().toLowerCase();
    if (name !== '' && !out.includes(name)) out.push(name);
  }
  return out;
}

function payloadTypes(media: MediaDescription): number[] {
  const text = media.payloads === undefined ? '' : String(media.payloads);
  const out: number[] = [];
  for (const token of text.split(' ')) {
    if (token === '') continue;
    const pt = Number(token);
    if (Number.isInteger(pt)) out.push(pt);
  }
  return out;
}

/** RFC 3551 §6 Table 4: every static audio payload type above has an 8000 Hz RTP clock (G.722 too). */
const STATIC_RATE = 8000;

interface Encoding {
  readonly name: string;
  /** RTP clock rate; undefined when a=rtpmap gives none */
  readonly rate: number | undefined;
}

/** Encoding by payload type: a=rtpmap first, the static table for payload types without one. */
function encodings(media: MediaDescription, pts: readonly number[]): Map<number, Encoding> {
  const out = new Map<number, Encoding>();
  for (const rtp of media.rtp) out.set(Number(rtp.payload), { name: rtp.codec.toLowerCase(), rate: rtp.rate });
  for (const pt of pts) {
    if (out.has(pt)) continue;
    const known = STATIC_AUDIO.get(pt);
    if (known !== undefined) out.set(pt, { name: known, rate: STATIC_RATE });
  }
  return out;
}

/** The payload types to keep, in output order; empty when no codec is common. */
function selectPayloads(media: MediaDescription, wanted: readonly string[]): number[] {
  const pts = payloadTypes(media);
  const enc = encodings(media, pts);
  const kept: number[] = [];
  const rates = new Set<number | undefined>();
  for (const codec of wanted) {
    if (codec === TELEPHONE_EVENT) continue;
    for (const pt of pts) {
      const e = enc.get(pt);
      if (e?.name !== codec || kept.includes(pt)) continue;
      kept.push(pt);
      rates.add(e.rate);
    }
  }
  if (kept.length === 0) return kept;
  for (const pt of pts) {
    const e = enc.get(pt);
    // RFC 4733 §2.1: the events' clock is the audio's; one at a rate no kept codec has is useless.
    if (e?.name === TELEPHONE_EVENT && rates.has(e.rate) && !kept.includes(pt)) kept.push(pt);
  }
  return kept;
}

function samePayloads(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((pt, i) => pt === b[i]);
}

function isActiveAudio(media: MediaDescription): boolean {
  return media.type === 'audio' && media.port !== 0;
}

/**
 * Keeps only `kept` on the m-line and its a=rtpmap / a=fmtp / a=rtcp-fb lines, those lines listed
 * in the same order as the m-line so a reader sees the preference (RFC 3264 §5.1) at a glance.
 */
function restrictTo(media: MediaDescription, kept: readonly number[]): void {
  const rank = new Map(kept.map((pt, i) => [String(pt), i]));
  const only = <T extends { payload: number | string }>(lines: T[]): T[] => {
    const out = lines.filter((l) => rank.has(String(l.payload)));
    // Array.prototype.sort is stable, so several lines of one payload type keep their order.
    return out.sort((a, b) => (rank.get(String(a.payload)) ?? 0) - (rank.get(String(b.payload)) ?? 0));
  };
  media.payloads = kept.join(' ');
  media.rtp = only(media.rtp);
  media.fmtp = only(media.fmtp);
  // `a=rtcp-fb:*` applies to every payload type (RFC 4585 §4.2) and stays, ahead of the rest.
  const wildcardFirst = <T extends { payload: number | string }>(lines: T[]): T[] => [
    ...lines.filter((l) => l.payload === '*'),
    ...only(lines),
  ];
  if (media.rtcpFb !== undefined) media.rtcpFb = wildcardFirst(media.rtcpFb);
  if (media.rtcpFbTrrInt !== undefined) media.rtcpFbTrrInt = wildcardFirst(media.rtcpFbTrrInt);
}

export function filterSdpOffer(sdp: string, codecs: string | readonly string[]): CodecFilterResult {
  const wanted = parseCodecList(codecs);
  if (wanted.length === 0) return { ok: true, sdp };
  const session = parse(sdp);
  const media = session.media ?? [];
  let changed = false;
  const plans: Array<{ m: MediaDescription; kept: number[] }> = [];
  for (const m of media) {
    if (!isActiveAudio(m)) continue;
    const kept = selectPayloads(m, wanted);
    if (kept.length === 0) return { ok: false, status: 488 };
    if (!samePayloads(kept, payloadTypes(m))) changed = true;
    plans.push({ m, kept });
  }
  if (!changed) return { ok: true, sdp };
  for (const { m, kept } of plans) restrictTo(m, kept);
  return { ok: true, sdp: write(session) };
}
