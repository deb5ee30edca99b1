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
