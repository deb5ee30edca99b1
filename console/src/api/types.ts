/**
 * The admin API's objects as the console reads them (GET /v1.0/openapi.json describes them).
 * Fields a later API adds are read through the same objects; pages check the OpenAPI document
 * before showing them (capabilities.ts).
 */

export const DEFAULT_CUSTOMER_ID = '00000000-0000-0000-0000-000000000001';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface Provider {
  id: string;
  type: 'sip';
  hostname: string;
  tech_prefix: string;
  tech_postfix: string;
  tech_headers: Record<string, string>;
  name: string;
  detail: string;
  codecs: string;
  metadata: Record<string, unknown>;
  health_status: HealthStatus;
  health_checked_at: string | null;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
  /** Fields of later API versions (registration_status, auth_password_set, ...). */
  [field: string]: unknown;
}

export interface Route {
  id: string;
  customer_id: string;
  name: string;
  detail: string;
  provider_id: string;
  priority: number;
  target: string;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface RouteInput {
  name: string;
  detail: string;
  provider_id: string;
  /** a string only when the admin typed something that is no integer: the API names the problem */
  priority: number | string;
  target: string;
}

export interface DialRoute {
  route: Route;
  provider: Provider;
  request_uri: string;
  headers: Record<string, string>;
  codecs: string[];
}

export interface Page<T> {
  result: T[];
  next_page_token: string;
}

/** The error envelope every API error leaves in. */
export interface ApiErrorBody {
  status: string;
  reason: string;
  message: string;
  request_id: string;
  details?: Record<string, unknown>;
}

/** One carrier attempt of a call record (GET /v1.0/calls). */
export interface CallAttempt {
  route_id: string;
  provider_id: string;
  request_uri: string;
  status: number;
  reason: string;
  started_ms: number;
  duration_ms: number;
}

export interface CallRecord {
  id: string;
  call_id: string;
  customer_id: string | null;
  source: string;
  caller: string;
  destination: string | null;
  outcome: 'connected' | 'failed';
  status: number | null;
  reason: string;
  provider_id: string | null;
  hangup_by: 'platform' | 'carrier' | 'outdial' | null;
  talk_ms: number | null;
  duration_ms: number;
  attempts: CallAttempt[];
  tm_create: string;
  tm_hangup: string;
}

/** The filters of GET /v1.0/calls, as the console sends them (empty = not sent). */
export interface CallFilter {
  customer_id?: string | undefined;
  destination?: string | undefined;
  outcome?: string | undefined;
  status?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export type ProviderCallStatus = 'calling' | 'answered' | 'failed' | 'timeout';

/** A provider test call (POST/GET /v1.0/providercalls). */
export interface ProviderCall {
  id: string;
  provider_id: string;
  destination: string;
  source: string;
  request_uri: string;
  codecs: string[];
  status: ProviderCallStatus;
  sip_status: number | null;
  sip_reason: string;
  reason: string;
  tm_create: string;
  tm_ringing: string | null;
  tm_answer: string | null;
  tm_hangup: string | null;
  tm_update: string;
}

export interface Agent {
  id: string;
  username: string;
  name: string;
  detail: string;
  permission: number;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface AccessKey {
  id: string;
  agent_id: string;
  name: string;
  detail: string;
  token_prefix: string;
  tm_expire: string;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

/** The answer to POST /v1.0/accesskeys: the only time the key itself is shown. */
export interface AccessKeyCreated extends AccessKey {
  token: string;
}
