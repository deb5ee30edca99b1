import { ApiError } from '../errors.ts';
import { parseMicros } from '../store/clock.ts';
import { clampPageSize, type Page, type PageRequest } from '../store/page.ts';

/**
 * page_size and page_token from the query. A token in VoIPBIN's older "YYYY-MM-DD HH:MM:SS.ffffff"
 * form is accepted and read as the same instant.
 */
export function pageRequestOf(query: { page_size?: string | undefined; page_token?: string | undefined }): PageRequest {
  let token = (query.page_token ?? '').trim();
  const legacy = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{6})$/.exec(token);
  if (legacy) token = `${legacy[1]}T${legacy[2]}Z`;
  if (token !== '' && parseMicros(token) === undefined) {
    throw new ApiError('INVALID_ARGUMENT', 'page_token must be a tm_create value such as 2026-04-23T10:00:00.000000Z');
  }
  return { pageSize: clampPageSize(query.page_size), pageToken: token };
}

export function listResponse<T>(page: Page<T>) {
  return { result: page.items, next_page_token: page.nextPageToken };
}
