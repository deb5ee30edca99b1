/** One page of a list, newest first (docs/api.md §5, "Pagination"). */
export interface Page<T> {
  items: T[];
  /** The last item's tm_create; "" when the page is empty. */
  nextPageToken: string;
}

export interface PageRequest {
  /** 1..100, already clamped by the caller. */
  pageSize: number;
  /** A tm_create value; "" = start at the newest row. */
  pageToken: string;
}

export const MAX_PAGE_SIZE = 100;

/** Anything outside 1..100 (or not an integer) means the default, 100. */
export function clampPageSize(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE ? n : MAX_PAGE_SIZE;
}

/**
 * tm_create is unique per table (see clock.ts), so "strictly older than the token" neither skips
 * nor repeats a row. The token is compared as text: the fixed-width timestamp sorts like time.
 */
export function pageOf<T extends { tm_create: string }>(items: T[]): Page<T> {
  return { items, nextPageToken: items.length === 0 ? '' : items[items.length - 1]!.tm_create };
}

/** A token far in the future stands for "from the newest row". */
export function tokenBound(pageToken: string): string {
  return pageToken === '' ? '\uffff' : pageToken;
}
