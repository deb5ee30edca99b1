import { apiCall, query } from './api-client.ts';
import type { DialRoute, Page, Provider, Route, RouteInput } from './types.ts';

/**
 * The admin API endpoints the console uses, one function each. A page for a later endpoint
 * (provider test calls, call records, agents, access keys) adds its functions here.
 */

const PAGE_SIZE = 100;
/** A list is read page by page up to this many rows; beyond it the page says the list is cut. */
const MAX_PAGES = 50;

export interface Listing<T> {
  items: T[];
  /** more rows exist than were read */
  truncated: boolean;
}

/** Every live row of a paginated list, newest first (admin API "Pagination"). */
export async function listAll<T>(path: string, params: Record<string, string | undefined> = {}): Promise<Listing<T>> {
  const items: T[] = [];
  let pageToken = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await apiCall<Page<T>>('GET', `${path}${query({ ...params, page_size: PAGE_SIZE, page_token: pageToken })}`);
    items.push(...r.result);
    if (r.result.length < PAGE_SIZE || r.next_page_token === '') return { items, truncated: false };
    pageToken = r.next_page_token;
  }
  return { items, truncated: true };
}

export const login = (username: string, password: string) =>
  apiCall<{ username: string; token: string }>('POST', '/auth/login', { body: { username, password }, login: true });
/** Clears the HttpOnly cookie (the console endpoint's logout; the API has none). */
export const logout = () => apiCall<void>('POST', '/console/logout', { body: {} });

export const listProviders = () => listAll<Provider>('/v1.0/providers');
export const getProvider = (id: string) => apiCall<Provider>('GET', `/v1.0/providers/${encodeURIComponent(id)}`);
export const createProvider = (body: Record<string, unknown>) => apiCall<Provider>('POST', '/v1.0/providers', { body });
export const replaceProvider = (id: string, body: Record<string, unknown>) => apiCall<Provider>('PUT', `/v1.0/providers/${encodeURIComponent(id)}`, { body });
export const deleteProvider = (id: string) => apiCall<Provider>('DELETE', `/v1.0/providers/${encodeURIComponent(id)}`);

export const listRoutes = (customerId?: string) => listAll<Route>('/v1.0/routes', { customer_id: customerId });
export const getRoute = (id: string) => apiCall<Route>('GET', `/v1.0/routes/${encodeURIComponent(id)}`);
export const createRoute = (body: RouteInput & { customer_id: string }) => apiCall<Route>('POST', '/v1.0/routes', { body });
export const replaceRoute = (id: string, body: RouteInput) => apiCall<Route>('PUT', `/v1.0/routes/${encodeURIComponent(id)}`, { body });
export const deleteRoute = (id: string) => apiCall<Route>('DELETE', `/v1.0/routes/${encodeURIComponent(id)}`);

export const previewDialRoutes = (target: string, customerId: string | undefined) =>
  apiCall<{ result: DialRoute[] }>('GET', `/v1.0/dialroutes${query({ target, customer_id: customerId })}`);

/** The OpenAPI document (no auth): what this server's API offers (capabilities.ts). */
export const openApiDocument = () => apiCall<unknown>('GET', '/v1.0/openapi.json');
