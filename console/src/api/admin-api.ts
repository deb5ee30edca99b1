import { apiCall, query } from './api-client.ts';
import type { AccessKey, AccessKeyCreated, Agent, CallFilter, CallRecord, DialRoute, Page, Provider, ProviderCall, Route, RouteInput } from './types.ts';

/**
 * The admin API endpoints the console uses, one function each.
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

/** One page of call records, newest first; `pageToken` '' = the newest. */
export const listCalls = (filter: CallFilter, pageToken: string, pageSize: number) =>
  apiCall<Page<CallRecord>>('GET', `/v1.0/calls${query({ ...filter, page_size: pageSize, page_token: pageToken })}`);
export const getCall = (id: string) => apiCall<CallRecord>('GET', `/v1.0/calls/${encodeURIComponent(id)}`);

export const startProviderCall = (body: { provider_id: string; destination: string; source?: string }) => apiCall<ProviderCall>('POST', '/v1.0/providercalls', { body });
export const getProviderCall = (id: string) => apiCall<ProviderCall>('GET', `/v1.0/providercalls/${encodeURIComponent(id)}`);
/** The newest test calls (one page: a test call is looked at right after it was placed). */
export const listProviderCalls = (providerId?: string) =>
  apiCall<Page<ProviderCall>>('GET', `/v1.0/providercalls${query({ provider_id: providerId, page_size: 50 })}`);

export const listAgents = () => listAll<Agent>('/v1.0/agents');
export const getAgent = (id: string) => apiCall<Agent>('GET', `/v1.0/agents/${encodeURIComponent(id)}`);
export const createAgent = (body: { username: string; password: string; name: string; detail: string; permission: number }) => apiCall<Agent>('POST', '/v1.0/agents', { body });
export const updateAgent = (id: string, body: { name: string; detail: string; permission: number }) => apiCall<Agent>('PUT', `/v1.0/agents/${encodeURIComponent(id)}`, { body });
export const deleteAgent = (id: string) => apiCall<Agent>('DELETE', `/v1.0/agents/${encodeURIComponent(id)}`);
export const setAgentPassword = (id: string, body: { password: string; old_password?: string }) =>
  apiCall<Agent>('PUT', `/v1.0/agents/${encodeURIComponent(id)}/password`, { body });

export const listAccessKeys = () => listAll<AccessKey>('/v1.0/accesskeys');
export const createAccessKey = (body: { name: string; detail: string; expire?: number | string; agent_id?: string }) => apiCall<AccessKeyCreated>('POST', '/v1.0/accesskeys', { body });
export const deleteAccessKey = (id: string) => apiCall<AccessKey>('DELETE', `/v1.0/accesskeys/${encodeURIComponent(id)}`);
