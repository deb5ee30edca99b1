/**
 * The one error registry. Every error a client can see has a stable `reason` (what tests and
 * scripts match on), a `status` from the VoIPBIN-style status vocabulary, the HTTP code that
 * status maps to, and a default message. Reasons are never reused for a different meaning.
 */

/** status → HTTP code, as fixed by the admin API contract (docs/api.md, "Errors"). */
export const STATUS_HTTP = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  DEADLINE_EXCEEDED: 408,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  UNPROCESSABLE: 422,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorStatus = keyof typeof STATUS_HTTP;

interface ErrorDefinition {
  status: ErrorStatus;
  message: string;
  /**
   * The HTTP code when it is more precise than the status's (415, 414, 431: transport-level
   * refusals that HTTP clients and proxies know by their own code).
   */
  http?: number;
}

export const ERRORS = {
  INVALID_JSON_BODY: { status: 'INVALID_ARGUMENT', message: 'the request body is not valid JSON' },
  INVALID_ARGUMENT: { status: 'INVALID_ARGUMENT', message: 'the request is invalid' },
  BODY_TOO_LARGE: { status: 'INVALID_ARGUMENT', message: 'the request body is too large' },
  INVALID_ID: { status: 'INVALID_ARGUMENT', message: 'the id is not a valid UUID' },
  INVALID_CODECS: { status: 'INVALID_ARGUMENT', message: 'codecs must be "" or a comma-separated list of codec names (at most 255 characters)' },
  INVALID_TECH_HEADERS: { status: 'INVALID_ARGUMENT', message: 'tech_headers must map SIP header names to single-line values, and must not set reserved headers' },
  INVALID_HOSTNAME: { status: 'INVALID_ARGUMENT', message: 'hostname must be a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional :port (1..65535)' },
  UNSUPPORTED_CARRIER: { status: 'INVALID_ARGUMENT', message: 'this carrier is not supported' },
  INVALID_API_KEY: { status: 'INVALID_ARGUMENT', message: 'credentials.api_key contains a space, a line break or another character an API key never has' },
  INVALID_PASSWORD: { status: 'INVALID_ARGUMENT', message: 'password must be 12 to 256 characters' },
  INVALID_OLD_PASSWORD: { status: 'INVALID_ARGUMENT', message: 'old_password is missing or does not match the current password' },
  UNSUPPORTED_MEDIA_TYPE: { status: 'INVALID_ARGUMENT', http: 415, message: 'request bodies must be sent as Content-Type: application/json (UTF-8)' },
  INVALID_URL: { status: 'INVALID_ARGUMENT', message: 'the URL is not valid (bad percent-encoding)' },
  URL_TOO_LONG: { status: 'INVALID_ARGUMENT', http: 414, message: 'the URL or one of its path segments is too long' },
  HEADERS_TOO_LARGE: { status: 'INVALID_ARGUMENT', http: 431, message: 'the request headers are too large' },
  MALFORMED_REQUEST: { status: 'INVALID_ARGUMENT', message: 'the request is not valid HTTP/1.1' },
  REQUEST_TIMEOUT: { status: 'DEADLINE_EXCEEDED', message: 'the request headers or body did not arrive in time' },
  PROVIDER_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such provider' },
  ROUTE_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such route' },
  AGENT_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such agent' },
  ACCESS_KEY_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such access key' },
  CALL_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such call record' },
  PROVIDER_CALL_NOT_FOUND: { status: 'NOT_FOUND', message: 'no such provider test call' },
  AGENT_EXISTS: { status: 'ALREADY_EXISTS', message: 'a live agent already has this username' },
  LAST_PROJECT_SUPER_ADMIN: { status: 'FAILED_PRECONDITION', message: 'this is the last ProjectSuperAdmin agent; it cannot be deleted or lose that permission' },
  PROVIDER_IN_USE: { status: 'FAILED_PRECONDITION', message: 'the provider is still used by live routes' },
  SETUP_NOT_CONFIGURED: { status: 'FAILED_PRECONDITION', message: 'provider setup needs the public SIP address (OUTDIAL_PUBLIC_SIP_ADDRESS, host:port) to be configured' },
  CARRIER_CREDENTIALS_REJECTED: { status: 'UNPROCESSABLE', message: 'the carrier rejected the API key' },
  CARRIER_REQUEST_FAILED: { status: 'UNPROCESSABLE', message: 'the carrier refused a setup step; everything created was rolled back' },
  CARRIER_UNAVAILABLE: { status: 'UNAVAILABLE', message: 'the carrier API is unavailable' },
  STORAGE_UNAVAILABLE: { status: 'UNAVAILABLE', message: 'the database cannot be written right now (disk full, locked or read-only); nothing was changed, retry later' },
  AUTHENTICATION_REQUIRED: { status: 'UNAUTHENTICATED', message: 'authentication required' },
  INVALID_CREDENTIALS: { status: 'UNAUTHENTICATED', message: 'invalid credentials' },
  PERMISSION_DENIED: { status: 'PERMISSION_DENIED', message: 'permission denied' },
  RATE_LIMIT_EXCEEDED: { status: 'RESOURCE_EXHAUSTED', message: 'too many requests; slow down' },
  PROVIDER_CALL_LIMIT: { status: 'RESOURCE_EXHAUSTED', message: 'too many provider test calls in progress; wait for one to end' },
  INTERNAL: { status: 'INTERNAL', message: 'internal error' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorReason = keyof typeof ERRORS;

/**
 * A PROVIDER_NOT_FOUND in a route body is the client's mistake (400), while on a path it is a
 * 404. The registry keeps one reason; the call site can override the status for that case.
 */
export class ApiError extends Error {
  readonly status: ErrorStatus;
  readonly httpCode: number;
  /** Extra machine-readable facts (e.g. the route ids behind PROVIDER_IN_USE). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly reason: ErrorReason,
    message?: string,
    options: { details?: Record<string, unknown>; status?: ErrorStatus; cause?: unknown } = {},
  ) {
    super(message ?? ERRORS[reason].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    const def: ErrorDefinition = ERRORS[reason];
    this.status = options.status ?? def.status;
    this.httpCode = options.status === undefined && def.http !== undefined ? def.http : STATUS_HTTP[this.status];
    this.details = options.details;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/**
 * A condition that stops start-up (a database file that is not SQLite, a schema newer than this
 * build): the CLI prints the message and exits, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
