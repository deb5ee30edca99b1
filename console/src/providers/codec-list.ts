/** The provider's `codecs` string ("" or "PCMU,PCMA") as an ordered list and back. */

export function splitCodecs(codecs: string): string[] {
  return codecs === '' ? [] : codecs.split(',').map((c) => c.trim());
}

export function joinCodecs(list: readonly string[]): string {
  return list.join(',');
}

/** Names offered by the codecs editor (any other name can be typed). */
export const COMMON_CODECS = ['PCMU', 'PCMA', 'G722', 'G729', 'opus', 'GSM', 'iLBC', 'AMR', 'AMR-WB', 'telephone-event'] as const;
