/**
 * Row timestamps: UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (docs/api.md §5). The store issues them
 * from a monotonic microsecond clock so that two rows never share a `tm_create`: the page token
 * is a plain `tm_create` value, and only unique values make "older than the token" exact.
 */

/** Microseconds since the epoch, as a number (safe: 2^53 µs is ~285 years). */
export type MicrosSource = () => number;

export const systemMicros: MicrosSource = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);

export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = micros - ms * 1000;
  const iso = new Date(ms).toISOString(); // 2026-04-23T10:00:00.123Z
  return `${iso.slice(0, 23)}${String(frac).padStart(3, '0')}Z`;
}

export function parseMicros(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})Z$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  return ms * 1000 + Number(m[2]);
}

export interface MonotonicClock {
  /** A timestamp later than every one issued before and later than `floor` (a stored value). */
  next(floor?: string | null): string;
}

export function createMonotonicClock(source: MicrosSource = systemMicros): MonotonicClock {
  let last = 0;
  return {
    next(floor) {
      let t = source();
      if (t <= last) t = last + 1;
      const f = floor ? parseMicros(floor) : undefined;
      if (f !== undefined && t <= f) t = f + 1;
      last = t;
      return formatMicros(t);
    },
  };
}
