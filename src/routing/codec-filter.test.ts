import { readFileSync } from 'node:fs';
import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { filterSdpOffer, parseCodecList, splitCodecList } from './codec-filter.ts';

/** Fixtures are stored with LF for readability; SIP carries SDP with CRLF (RFC 4566 §5). */
function fixture(name: string): string {
  return readFileSync(new URL(`../../test/support/routing-fixtures/${name}.sdp`, import.meta.url), 'utf8').replace(/\r?\n/g, '\r\n');
}

interface Section {
  m: string;
  rtpmap: string[];
  fmtp: string[];
  rtcpFb: string[];
  lines: string[];
}

/** Reads the written SDP as text (independently of sdp-transform) into its m= sections. */
function sections(sdp: string): Section[] {
  const out: Section[] = [];
  for (const line of sdp.split(/\r\n/)) {
    if (line.startsWith('m=')) out.push({ m: line, rtpmap: [], fmtp: [], rtcpFb: [], lines: [] });
    const cur = out[out.length - 1];
    if (cur === undefined || line === '') continue;
    cur.lines.push(line);
    if (line.startsWith('a=rtpmap:')) cur.rtpmap.push(line);
    if (line.startsWith('a=fmtp:')) cur.fmtp.push(line);
    if (line.startsWith('a=rtcp-fb:')) cur.rtcpFb.push(line);
  }
  return out;
}

function filtered(sdp: string, codecs: string): string {
  const r = filterSdpOffer(sdp, codecs);
  if (!r.ok) throw new Error(`unexpected ${r.status}`);
  return r.sdp;
}

describe('filterSdpOffer: empty list', () => {
  it.each(['asterisk-offer', 'freeswitch-offer', 'chrome-webrtc-offer', 'static-payloads-offer', 'linphone-video-offer'])(
    '%s is returned as the same string',
    (name) => {
      const sdp = fixture(name);
      for (const codecs of ['', ' ', ',']) expect(filterSdpOffer(sdp, codecs)).toEqual({ ok: true, sdp });
    },
  );
});

describe('filterSdpOffer: Asterisk offer (PCMU PCMA GSM telephone-event/8000)', () => {
  const sdp = fixture('asterisk-offer');
  it.each([
    {
      codecs: 'PCMA,PCMU',
      m: 'm=audio 10062 RTP/AVP 8 0 101',
      rtpmap: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
    {
      codecs: 'pcmu',
      m: 'm=audio 10062 RTP/AVP 0 101',
      rtpmap: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
    {
      codecs: 'G729,gsm',
      m: 'm=audio 10062 RTP/AVP 3 101',
      rtpmap: ['a=rtpmap:3 GSM/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
    {
      // telephone-event's place in the provider list does not matter: it follows the codecs.
      codecs: 'telephone-event,GSM,PCMA',
      m: 'm=audio 10062 RTP/AVP 3 8 101',
      rtpmap: ['a=rtpmap:3 GSM/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
  ])('$codecs → $m', ({ codecs, m, rtpmap, fmtp }) => {
    const [audio] = sections(filtered(sdp, codecs));
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap).toEqual(rtpmap);
    expect(audio?.fmtp).toEqual(fmtp);
    // Attributes unrelated to payload types survive.
    expect(audio?.lines).toEqual(expect.arrayContaining(['a=ptime:20', 'a=maxptime:150', 'a=sendrecv']));
  });

  it('keeps the session part (o=, s=, c=)', () => {
    const out = filtered(sdp, 'PCMA');
    expect(out.startsWith('v=0\r\no=- 1696271452 1696271452 IN IP4 192.0.2.10\r\ns=Asterisk\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n')).toBe(true);
  });

  it('returns the original string when filtering changes nothing', () => {
    expect(filterSdpOffer(sdp, 'PCMU,PCMA,GSM')).toEqual({ ok: true, sdp });
  });
});

describe('filterSdpOffer: FreeSWITCH offer (opus G722 PCMU PCMA telephone-event CN)', () => {
  const sdp = fixture('freeswitch-offer');
  it.each([
    {
      codecs: 'PCMA,PCMU',
      m: 'm=audio 24554 RTP/AVP 8 0 101',
      rtpmap: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
    {
      codecs: 'G722,CN',
      m: 'm=audio 24554 RTP/AVP 9 13 101',
      rtpmap: ['a=rtpmap:9 G722/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:101 telephone-event/8000'],
      fmtp: ['a=fmtp:101 0-16'],
    },
    {
      // telephone-event/8000 has no 8000 Hz codec left beside opus/48000 (RFC 4733 §2.1)
      codecs: 'OPUS',
      m: 'm=audio 24554 RTP/AVP 102',
      rtpmap: ['a=rtpmap:102 opus/48000/2'],
      fmtp: ['a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40'],
    },
  ])('$codecs → $m', ({ codecs, m, rtpmap, fmtp }) => {
    const out = filtered(sdp, codecs);
    const [audio] = sections(out);
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap).toEqual(rtpmap);
    expect(audio?.fmtp).toEqual(fmtp);
    expect(audio?.lines).toContain('a=rtcp:24555 IN IP4 192.0.2.20');
  });

  it.each(['G729', 'GSM,iLBC', 'telephone-event', 'CN-WB'])('no common codec with %s → 488', (codecs) => {
    expect(filterSdpOffer(sdp, codecs)).toEqual({ ok: false, status: 488 });
  });
});

describe('filterSdpOffer: Chrome WebRTC offer', () => {
  const sdp = fixture('chrome-webrtc-offer');
  it.each([
    {
      codecs: 'PCMA,PCMU',
      m: 'm=audio 9 UDP/TLS/RTP/SAVPF 8 0 126',
      rtpmap: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000'],
      fmtp: [] as string[],
      rtcpFb: [] as string[],
    },
    {
      codecs: 'opus,red',
      m: 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 110',
      rtpmap: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:63 red/48000/2', 'a=rtpmap:110 telephone-event/48000'],
      fmtp: ['a=fmtp:111 minptime=10;useinbandfec=1', 'a=fmtp:63 111/111'],
      rtcpFb: ['a=rtcp-fb:111 transport-cc'],
    },
    {
      codecs: 'pcmu,OPUS',
      m: 'm=audio 9 UDP/TLS/RTP/SAVPF 0 111 110 126',
      rtpmap: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000'],
      fmtp: ['a=fmtp:111 minptime=10;useinbandfec=1'],
      rtcpFb: ['a=rtcp-fb:111 transport-cc'],
    },
    {
      codecs: 'G722,CN',
      m: 'm=audio 9 UDP/TLS/RTP/SAVPF 9 13 126',
      rtpmap: ['a=rtpmap:9 G722/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:126 telephone-event/8000'],
      fmtp: [],
      rtcpFb: [],
    },
  ])('$codecs → $m', ({ codecs, m, rtpmap, fmtp, rtcpFb }) => {
    const out = filtered(sdp, codecs);
    const [audio, video] = sections(out);
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap).toEqual(rtpmap);
    expect(audio?.fmtp).toEqual(fmtp);
    expect(audio?.rtcpFb).toEqual(rtcpFb);
    // ICE, DTLS, mid, ssrc and rtcp-mux survive on the audio m-line.
    expect(audio?.lines).toEqual(
      expect.arrayContaining([
        'a=ice-ufrag:Fh4k',
        'a=ice-pwd:Jq9zS3p2kT0vLmN8rY6wQx1c',
        'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
        'a=setup:actpass',
        'a=mid:0',
        'a=rtcp-mux',
        'a=ssrc:1839470281 cname:Hq3kV0pZ8mW2xY5a',
      ]),
    );
    expect(out).toContain('a=group:BUNDLE 0 1\r\n');
    // The video m-line is untouched: same m= line, same set of lines, same parsed structure.
    const originalVideo = sections(sdp)[1];
    expect(video?.m).toBe('m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103');
    expect([...(video?.lines ?? [])].sort()).toEqual([...(originalVideo?.lines ?? [])].sort());
    expect(parse(out).media[1]).toEqual(parse(sdp).media[1]);
  });

  it('removed payload types leave no a=rtpmap, a=fmtp or a=rtcp-fb behind', () => {
    const [audio] = sections(filtered(sdp, 'PCMU'));
    const all = (audio?.lines ?? []).join('\n');
    for (const pt of ['111', '63', '9', '8', '13']) expect(all).not.toMatch(new RegExp(`a=(rtpmap|fmtp|rtcp-fb):${pt} `));
  });

  it('a codec the browser does not offer → 488', () => {
    expect(filterSdpOffer(sdp, 'G729,AMR')).toEqual({ ok: false, status: 488 });
  });
});

describe('filterSdpOffer: static payload types without a=rtpmap', () => {
  const sdp = fixture('static-payloads-offer');
  it.each([
    { codecs: 'G729', m: 'm=audio 16384 RTP/AVP 18 101', fmtp: ['a=fmtp:18 annexb=no', 'a=fmtp:101 0-15'] },
    { codecs: 'g723,PCMA', m: 'm=audio 16384 RTP/AVP 4 8 101', fmtp: ['a=fmtp:101 0-15'] },
    { codecs: 'PCMU', m: 'm=audio 16384 RTP/AVP 0 101', fmtp: ['a=fmtp:101 0-15'] },
    { codecs: 'GSM,G722', m: 'm=audio 16384 RTP/AVP 3 9 101', fmtp: ['a=fmtp:101 0-15'] },
  ])('$codecs → $m', ({ codecs, m, fmtp }) => {
    const [audio] = sections(filtered(sdp, codecs));
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap).toEqual(['a=rtpmap:101 telephone-event/8000']);
    expect(audio?.fmtp).toEqual(fmtp);
  });

  it('a dynamic payload type without a=rtpmap is unknown and never matches', () => {
    const sdp2 = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 97\r\na=sendrecv\r\n';
    expect(filterSdpOffer(sdp2, 'opus')).toEqual({ ok: false, status: 488 });
    expect(sections(filtered(sdp2, 'PCMU,opus'))[0]?.m).toBe('m=audio 4000 RTP/AVP 0');
  });

  it('an explicit a=rtpmap wins over the static table', () => {
    const sdp2 = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 0\r\na=rtpmap:18 G729/8000\r\n';
    expect(sections(filtered(sdp2, 'g729'))[0]?.m).toBe('m=audio 4000 RTP/AVP 18');
  });
});

describe('filterSdpOffer: telephone-event at 8000 and 48000 Hz, opus variants', () => {
  const sdp = [
    'v=0', 'o=- 7 7 IN IP4 192.0.2.7', 's=-', 'c=IN IP4 192.0.2.7', 't=0 0',
    'm=audio 5004 RTP/AVP 109 0 111 101 102 13',
    'a=rtpmap:109 opus/48000/2', 'a=fmtp:109 stereo=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:111 OPUS/48000/2', 'a=fmtp:111 useinbandfec=1',
    'a=rtpmap:101 telephone-event/48000', 'a=fmtp:101 0-15',
    'a=rtpmap:102 telephone-event/8000', 'a=fmtp:102 0-15',
    'a=rtpmap:13 CN/8000', '',
  ].join('\r\n');

  it.each([
    { codecs: 'PCMU,opus', m: 'm=audio 5004 RTP/AVP 0 109 111 101 102', events: ['101 telephone-event/48000', '102 telephone-event/8000'] },
    { codecs: 'opus,PCMU', m: 'm=audio 5004 RTP/AVP 109 111 0 101 102', events: ['101 telephone-event/48000', '102 telephone-event/8000'] },
    { codecs: 'opus', m: 'm=audio 5004 RTP/AVP 109 111 101', events: ['101 telephone-event/48000'] },
    { codecs: 'CN,PCMU', m: 'm=audio 5004 RTP/AVP 13 0 102', events: ['102 telephone-event/8000'] },
  ])('$codecs → $m (telephone-event at the kept codecs\' rates)', ({ codecs, m, events }) => {
    const [audio] = sections(filtered(sdp, codecs));
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap.filter((l) => l.includes('telephone-event'))).toEqual(events.map((e) => `a=rtpmap:${e}`));
    expect(audio?.fmtp.filter((l) => /a=fmtp:10[12] /.test(l))).toEqual(events.map((e) => `a=fmtp:${e.slice(0, 3)} 0-15`));
  });

  it('opus variants keep their own fmtp lines, in offer order', () => {
    const [audio] = sections(filtered(sdp, 'opus'));
    expect(audio?.fmtp).toEqual(['a=fmtp:109 stereo=1', 'a=fmtp:111 useinbandfec=1', 'a=fmtp:101 0-15']);
  });

  it('telephone-event alone is not a common codec → 488', () => {
    expect(filterSdpOffer(sdp, 'telephone-event,G729')).toEqual({ ok: false, status: 488 });
  });
});

describe('filterSdpOffer: offer with video (SIP video phone)', () => {
  const sdp = fixture('linphone-video-offer');
  it.each([
    { codecs: 'PCMA,opus', m: 'm=audio 7078 RTP/AVP 8 96 101 98', fmtp: ['a=fmtp:96 useinbandfec=1'] },
    // speex/16000: neither telephone-event/48000 nor /8000 matches its clock (RFC 4733 §2.1)
    { codecs: 'speex', m: 'm=audio 7078 RTP/AVP 97', fmtp: ['a=fmtp:97 vbr=on'] },
    { codecs: 'PCMU', m: 'm=audio 7078 RTP/AVP 0 98', fmtp: [] },
  ])('$codecs → audio $m, video untouched', ({ codecs, m, fmtp }) => {
    const out = filtered(sdp, codecs);
    const [audio, video] = sections(out);
    expect(audio?.m).toBe(m);
    expect(audio?.fmtp).toEqual(fmtp);
    // a=rtcp-fb:* applies to all payload types and stays.
    expect(audio?.rtcpFb).toEqual(['a=rtcp-fb:* trr-int 1000', 'a=rtcp-fb:* ccm tmmbr']);
    expect(video?.m).toBe('m=video 9078 RTP/AVP 96 97');
    expect([...(video?.lines ?? [])].sort()).toEqual([...(sections(sdp)[1]?.lines ?? [])].sort());
    expect(out).toContain('a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n');
  });

  it('a video codec name in the provider list does not touch or rescue the audio', () => {
    expect(filterSdpOffer(sdp, 'VP8,H264')).toEqual({ ok: false, status: 488 });
  });
});

describe('filterSdpOffer: several audio m-lines and declined streams', () => {
  const head = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n';
  it('every active audio m-line must keep a codec', () => {
    const sdp = `${head}m=audio 4000 RTP/AVP 0 8\r\nm=audio 4002 RTP/AVP 9\r\n`;
    expect(filterSdpOffer(sdp, 'PCMA')).toEqual({ ok: false, status: 488 });
    const ok = sections(filtered(sdp, 'PCMA,G722'));
    expect(ok.map((s) => s.m)).toEqual(['m=audio 4000 RTP/AVP 8', 'm=audio 4002 RTP/AVP 9']);
  });

  it('an audio m-line with port 0 is left alone', () => {
    const sdp = `${head}m=audio 4000 RTP/AVP 0 8\r\nm=audio 0 RTP/AVP 9\r\n`;
    expect(sections(filtered(sdp, 'PCMA')).map((s) => s.m)).toEqual(['m=audio 4000 RTP/AVP 8', 'm=audio 0 RTP/AVP 9']);
  });

  it.each([
    ['no m-line at all', head],
    ['video only', `${head}m=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n`],
    ['empty body', ''],
  ])('%s → unchanged', (_label, sdp) => {
    expect(filterSdpOffer(sdp, 'PCMU')).toEqual({ ok: true, sdp });
  });
});

describe('codec list parsing', () => {
  it.each([
    ['', []],
    ['PCMU', ['pcmu']],
    [' PCMA , pcmu,PCMA,', ['pcma', 'pcmu']],
  ])('parseCodecList(%j) → %j', (text, list) => {
    expect(parseCodecList(text)).toEqual(list);
  });

  it.each([
    ['', []],
    ['PCMA,PCMU', ['PCMA', 'PCMU']],
    [' G729 ,,opus', ['G729', 'opus']],
  ])('splitCodecList(%j) → %j', (text, list) => {
    expect(splitCodecList(text)).toEqual(list);
  });

  it('accepts an already split list', () => {
    const sdp = fixture('asterisk-offer');
    expect(filterSdpOffer(sdp, ['PCMA'])).toMatchObject({ ok: true, sdp: expect.stringContaining('m=audio 10062 RTP/AVP 8 101\r\n') });
  });
});

describe('filterSdpOffer: telephone-event only at a kept codec\'s clock rate (RFC 4733 §2.1)', () => {
  // linphone's usual offer: opus/48000, speex/16000, PCMU and PCMA at 8000, DTMF at all three rates.
  const linphone = [
    'v=0', 'o=alice 2107 1346 IN IP4 192.0.2.40', 's=Talk', 'c=IN IP4 192.0.2.40', 't=0 0',
    'm=audio 7078 RTP/AVP 96 97 0 8 101 100 98',
    'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 useinbandfec=1',
    'a=rtpmap:97 speex/16000', 'a=fmtp:97 vbr=on',
    'a=rtpmap:101 telephone-event/48000',
    'a=rtpmap:100 telephone-event/16000',
    'a=rtpmap:98 telephone-event/8000', 'a=fmtp:98 0-15',
    '',
  ].join('\r\n');

  it.each([
    { codecs: 'PCMA', m: 'm=audio 7078 RTP/AVP 8 98', events: ['98 telephone-event/8000'] },
    { codecs: 'PCMU,PCMA', m: 'm=audio 7078 RTP/AVP 0 8 98', events: ['98 telephone-event/8000'] },
    { codecs: 'G722', status: 488 },
    { codecs: 'speex', m: 'm=audio 7078 RTP/AVP 97 100', events: ['100 telephone-event/16000'] },
    { codecs: 'opus', m: 'm=audio 7078 RTP/AVP 96 101', events: ['101 telephone-event/48000'] },
    { codecs: 'opus,PCMA', m: 'm=audio 7078 RTP/AVP 96 8 101 98', events: ['101 telephone-event/48000', '98 telephone-event/8000'] },
    {
      codecs: 'speex,opus,PCMU',
      m: 'm=audio 7078 RTP/AVP 97 96 0 101 100 98',
      events: ['101 telephone-event/48000', '100 telephone-event/16000', '98 telephone-event/8000'],
    },
    { codecs: 'telephone-event', status: 488 },
  ])('$codecs', ({ codecs, m, events, status }) => {
    if (status !== undefined) {
      expect(filterSdpOffer(linphone, codecs)).toEqual({ ok: false, status });
      return;
    }
    const [audio] = sections(filtered(linphone, codecs));
    expect(audio?.m).toBe(m);
    expect(audio?.rtpmap.filter((l) => l.includes('telephone-event'))).toEqual(events!.map((e) => `a=rtpmap:${e}`));
  });

  it('a static payload type (G.722 has an 8000 Hz RTP clock) keeps telephone-event/8000', () => {
    const offer = linphone.replace('RTP/AVP 96 97 0 8 101 100 98', 'RTP/AVP 9 101 100 98');
    const [audio] = sections(filtered(offer, 'G722'));
    expect(audio?.m).toBe('m=audio 7078 RTP/AVP 9 98');
  });
});
