/** Random and mutated SIP messages for robustness tests, from a seeded generator (reproducible). */

export function seededRandom(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validInvite(n: number, host: string, port: number): string {
  const body = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  return [
    `INVITE sip:fuzz${n}@${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKfuzz${n}`,
    'Max-Forwards: 70',
    `From: <sip:fuzzer@127.0.0.1>;tag=f${n}`,
    `To: <sip:fuzz${n}@${host}>`,
    `Call-ID: fuzz-${n}@127.0.0.1`,
    'CSeq: 1 INVITE',
    'Contact: <sip:fuzzer@127.0.0.1:9>',
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

const NASTY = ['\0', '\r', '\n', '\r\n\r\n', ':', ';', ',', '<', '>', '"', '\\', '%', '\u00ff', '€', '😀', ' ', '\t', '=', '@', 'SIP/2.0', '999999999999', '-1'];
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'FOO', ''];

/** One message: pure noise, a mutated INVITE, or a structurally odd one. */
export function fuzzMessage(rand: () => number, n: number, host: string, port: number): Buffer {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const kind = Math.floor(rand() * 6);
  if (kind === 0) {
    const len = Math.floor(rand() * 2000);
    return Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
  }
  let text = validInvite(n, host, port);
  if (kind === 1) {
    // character-level mutations
    const edits = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(rand() * text.length);
      const op = rand();
      if (op < 0.33) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 10));
      else if (op < 0.66) text = text.slice(0, at) + pick(NASTY) + text.slice(at);
      else text = text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + text.slice(at + 1);
    }
  } else if (kind === 2) {
    // line-level: drop, duplicate or garble whole header lines
    const lines = text.split('\r\n');
    const i = 1 + Math.floor(rand() * 9);
    const op = rand();
    if (op < 0.4) lines.splice(i, 1);
    else if (op < 0.7) lines.splice(i, 0, lines[i] ?? '');
    else lines[i] = `${pick(['Via', 'CSeq', 'Content-Length', 'To', 'From', 'Call-ID', 'X-Junk'])}: ${pick(NASTY).repeat(1 + Math.floor(rand() * 50))}`;
    text = lines.join('\r\n');
  } else if (kind === 3) {
    // other methods and start lines, sometimes in-dialog looking
    const m = pick(METHODS);
    text = text.replace(/^INVITE /, `${m} `).replace('CSeq: 1 INVITE', `CSeq: ${Math.floor(rand() * 5)} ${pick(METHODS)}`);
    if (rand() < 0.5) text = text.replace(/^(To: [^\r]*)/m, '$1;tag=xyz');
  } else if (kind === 4) {
    // truncated, or Content-Length lies
    text = rand() < 0.5 ? text.slice(0, Math.floor(rand() * text.length)) : text.replace(/Content-Length: \d+/, `Content-Length: ${pick(['0', '5', '100000', '-3', 'abc', '99999999999999999999'])}`);
  } else {
    // oversized headers / bodies
    text = text.replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(Math.floor(rand() * 80_000))}\r\n\r\n`);
  }
  return Buffer.from(text, 'utf8');
}
