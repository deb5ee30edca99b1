import type { ApiErrorBody } from './types.ts';

/**
 * The console's only way to the server: same-origin fetch with the `token` cookie the login set
 * (HttpOnly: this code never sees the token). Every non-2xx answer becomes an ApiFailure holding
 * the API's error envelope, so pages can show the API's own reason and message.
 */

export class ApiFailure extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
    this.name = 'ApiFailure';
  }

  get reason(): string {
    return this.body.reason;
  }
}

let onUnauthenticated: (() => void) | undefined;

/** Called when an API answer says the session is gone (401 outside the login). */
export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

function isEnvelope(value: unknown): value is { error: ApiErrorBody } {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as ApiErrorBody).reason === 'string';
}

export interface CallOptions {
  body?: unknown;
  /** a 401 here is a wrong password, not an ended session */
  login?: boolean;
}

export async function apiCall<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiFailure(0, { status: 'UNAVAILABLE', reason: 'NETWORK_ERROR', message: 'outdial did not answer; is it running?', request_id: '' });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok) return parsed as T;
  const body: ApiErrorBody = isEnvelope(parsed)
    ? parsed.error
    : { status: 'UNKNOWN', reason: `HTTP_${response.status}`, message: `outdial answered ${response.status} ${response.statusText}`, request_id: response.headers.get('x-request-id') ?? '' };
  if (response.status === 401 && !options.login) onUnauthenticated?.();
  throw new ApiFailure(response.status, body);
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
