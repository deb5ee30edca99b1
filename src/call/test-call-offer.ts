import type { Config } from '../config/config-schema.ts';

/**
 * The SDP offer of a provider test call (docs/api.md "Provider test calls"). No media flows, but
 * a carrier only answers an INVITE whose offer it can take, so the offer lists the codecs trunks
 * commonly use; it is then filtered to the provider's codecs exactly like a platform's offer
 * (carrier-attempt.ts offerFor). The port is 9 (discard, RFC 863): nothing listens for RTP.
 */
const CODEC_LINES = [
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=rtpmap:110 telephone-event/48000',
  'a=fmtp:110 0-16',
];
const PAYLOADS = '0 8 9 18 111 101 110';
const DISCARD_PORT = 9;

export function testCallOffer(address: string, sessionId: number): string {
  const family = address.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=outdial ${sessionId} 1 IN ${family} ${address}`,
    's=outdial provider test call',
    `c=IN ${family} ${address}`,
    't=0 0',
    `m=audio ${DISCARD_PORT} RTP/AVP ${PAYLOADS}`,
    ...CODEC_LINES,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/**
 * The address the offer names: the host of OUTDIAL_PUBLIC_SIP_ADDRESS when set (what carriers
 * reach), else the SIP listen address unless it is a wildcard, else loopback.
 */
export function testCallMediaAddress(config: Pick<Config, 'publicSipAddress' | 'sip'>): string {
  const pub = config.publicSipAddress.trim();
  if (pub !== '') {
    const bracketed = /^\[([^\]]+)\]/.exec(pub);
    if (bracketed) return bracketed[1]!;
    return pub.replace(/:\d+$/, '');
  }
  const host = config.sip.host.replace(/^\[|\]$/g, '');
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
