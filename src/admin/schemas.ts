import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL } from '../routing/model.ts';

/**
 * The TypeBox schemas that validate requests and shape responses; @fastify/swagger builds the
 * OpenAPI document from these same objects, so the document cannot drift from the validation.
 */

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const Uuid = (description: string) => Type.String({ pattern: UUID_PATTERN, description });
const Time = (description: string) =>
  Type.String({ description: `${description} (UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ)`, examples: ['2026-04-23T10:00:00.000000Z'] });

export const IdParams = Type.Object({ id: Uuid('resource id') }, { additionalProperties: false });

/** Query strings are permissive (unknown parameters are ignored, as VoIPBIN does). */
const TokenQuery = {
  token: Type.Optional(Type.String({ description: 'auth token (alternative to the Bearer header and the cookie; see docs/api.md for the order)' })),
  accesskey: Type.Optional(Type.String({ description: 'access key (alternative to a token)' })),
};
export const AuthQuery = Type.Object(TokenQuery);
export const PageQuery = Type.Object({
  ...TokenQuery,
  page_size: Type.Optional(Type.String({ description: 'items per page, 1..100 (default and out of range: 100)' })),
  page_token: Type.Optional(Type.String({ description: 'tm_create of the last item of the previous page; empty = newest' })),
});
export const RouteListQuery = Type.Object({
  ...PageQuery.properties,
  customer_id: Type.Optional(Uuid('only the routes of this customer')),
});

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      status: Type.String({ description: 'INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, DEADLINE_EXCEEDED, ALREADY_EXISTS, FAILED_PRECONDITION, UNPROCESSABLE, RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL' }),
      reason: Type.String({ description: 'stable machine-readable reason, e.g. INVALID_CODECS' }),
      message: Type.String(),
      request_id: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { description: 'every error' },
);

export const errorResponses = { '4xx': ErrorEnvelope, '5xx': ErrorEnvelope };

/** Any one of the credential carriers, in the order they are looked at (docs/api.md, "Credentials"). */
export const SECURITY: Array<Record<string, string[]>> = [
  { bearerToken: [] },
  { queryToken: [] },
  { queryAccessKey: [] },
  { cookieToken: [] },
  { cookieAccessKey: [] },
];

/**
 * Fields a GET returns that a client cannot set. A PUT body may carry them (GET → edit → PUT
 * round trip, docs/api.md "Updating with PUT"); they are ignored.
 */
const readOnly = (names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, Type.Optional(Type.Unknown({ description: 'read-only: accepted in a PUT body and ignored' }))]));

// --- providers -------------------------------------------------------------------------------

const TECH_AFFIX_PATTERN = "^[A-Za-z0-9\\-_.!~*'()&=+$,;?/#]*$";
/** RFC 3261 §25.1 token, as a header name. */
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!%'*+\\-.^_`|~]{1,64}$";

const TechAffix = (description: string) => Type.String({ maxLength: 32, pattern: TECH_AFFIX_PATTERN, description });
export const TechHeaders = Type.Record(
  Type.String({ pattern: HEADER_NAME_PATTERN }),
  Type.String({ maxLength: 1024, pattern: '^[^\\r\\n\\u0000]*$' }),
  { maxProperties: 32, additionalProperties: false, description: 'SIP headers added to every INVITE to this provider; reserved names (Via, From, To, ...) are refused' },
);

const ProviderFields = {
  type: Type.Literal('sip'),
  hostname: Type.String({ minLength: 1, maxLength: 261, description: 'DNS name, IPv4 or [IPv6], optional :port' }),
  tech_prefix: Type.Optional(TechAffix('put before the number in the Request-URI user part')),
  tech_postfix: Type.Optional(TechAffix('put after the number in the Request-URI user part')),
  tech_headers: Type.Optional(TechHeaders),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  detail: Type.Optional(Type.String({ maxLength: 1024 })),
  codecs: Type.Optional(Type.String({ maxLength: 255, description: '"" (no restriction) or a comma list such as "PCMU,PCMA"; omitted = ""' })),
  // Credential-based trunks (docs/api.md §9, "Carrier settings").
  auth_username: Type.Optional(Type.String({ maxLength: 128, description: 'digest user name for the carrier\'s 401/407 challenges and REGISTER; "" = none' })),
  auth_password: Type.Optional(
    Type.Union([Type.String({ maxLength: 256 }), Type.Null()], {
      description: 'write-only (never returned; see auth_password_set). On PUT: omitted = keep the stored one, "" or null = remove it',
    }),
  ),
  register: Type.Optional(Type.Boolean({ description: 'REGISTER sip:<auth_username>@<hostname> with the credentials; default false' })),
  register_expires: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400, description: 'registration lifetime asked for, in seconds; default 3600' })),
  leading_plus: Type.Optional(Type.Boolean({ description: 'false: the number without its + in the Request-URI, To and a +E.164 From / P-Asserted-Identity; default true' })),
  transport: Type.Optional(Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], { description: 'default udp; tcp and tls add ;transport= to the Request-URI' })),
  max_calls: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000, description: 'concurrent calls through this provider; 0 = unlimited (default)' })),
  max_cps: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'new attempts per second through this provider (may be fractional); 0 = unlimited (default)' })),
};

export const ProviderBody = Type.Object(ProviderFields, { additionalProperties: false });
export type ProviderBody = Static<typeof ProviderBody>;

/** What GET returns beside the settable fields (including those the carrier-credentials work adds). */
const PROVIDER_READ_ONLY = [
  'id', 'metadata', 'health_status', 'health_checked_at', 'registration_status', 'registration_checked_at', 'auth_password_set',
  'tm_create', 'tm_update', 'tm_delete',
] as const;
export const ProviderReplaceBody = Type.Object({ ...ProviderFields, ...readOnly(PROVIDER_READ_ONLY) }, { additionalProperties: false });
export type ProviderReplaceBody = Static<typeof ProviderReplaceBody>;

export const Provider = Type.Object({
  id: Type.String(),
  type: Type.Literal('sip'),
  hostname: Type.String(),
  tech_prefix: Type.String(),
  tech_postfix: Type.String(),
  tech_headers: Type.Record(Type.String(), Type.String()),
  name: Type.String(),
  detail: Type.String(),
  codecs: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown(), { description: 'carrier ids for providers made by setup' }),
  health_status: Type.Union([Type.Literal('unknown'), Type.Literal('healthy'), Type.Literal('unhealthy')]),
  health_checked_at: Type.Union([Type.String(), Type.Null()]),
  auth_username: Type.String(),
  auth_password_set: Type.Boolean({ description: 'whether a password is stored (the password itself is never returned)' }),
  register: Type.Boolean(),
  register_expires: Type.Integer(),
  registration_status: Type.Union([Type.Literal('off'), Type.Literal('registering'), Type.Literal('registered'), Type.Literal('failed')], {
    description: 'off unless register; failed providers are tried last, like unhealthy ones',
  }),
  registration_checked_at: Type.Union([Type.String(), Type.Null()], { description: 'time of the last REGISTER answer (UTC)' }),
  leading_plus: Type.Boolean(),
  transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]),
  max_calls: Type.Integer(),
  max_cps: Type.Number(),
  tm_create: Time('creation time'),
  tm_update: Time('last change'),
  tm_delete: Time(`deletion time; ${LIVE_SENTINEL} while live`),
});

export const SetupBody = Type.Object(
  {
    carrier: Type.String({ description: 'supported: telnyx' }),
    name: Type.String({ minLength: 1, maxLength: 255, description: 'required (as in VoIPBIN): names the provider and the carrier-side objects' }),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
    credentials: Type.Object(
      { api_key: Type.String({ maxLength: 512, description: 'write-only; surrounding blanks and line breaks are trimmed, inner ones refused (INVALID_API_KEY)' }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SetupBody = Static<typeof SetupBody>;

// --- routes ----------------------------------------------------------------------------------

const RouteUpdateFields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  detail: Type.Optional(Type.String({ maxLength: 1024 })),
  provider_id: Uuid('a live provider'),
  priority: Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: 'lower is tried first' }),
  target: Type.String({ pattern: '^(all|\\+[0-9]{1,15})$', description: '"all" or an E.164 prefix: + and 1..15 digits' }),
};

export const RouteCreateBody = Type.Object(
  { customer_id: Uuid(`the customer; ${DEFAULT_CUSTOMER_ID} = defaults for every customer`), ...RouteUpdateFields },
  { additionalProperties: false },
);
export type RouteCreateBody = Static<typeof RouteCreateBody>;
export const RouteUpdateBody = Type.Object(
  {
    ...RouteUpdateFields,
    customer_id: Type.Optional(Uuid('fixed at creation: accepted only when unchanged (round trip)')),
    ...readOnly(['id', 'tm_create', 'tm_update', 'tm_delete']),
  },
  { additionalProperties: false },
);
export type RouteUpdateBody = Static<typeof RouteUpdateBody>;

export const Route = Type.Object({
  id: Type.String(),
  customer_id: Type.String(),
  name: Type.String(),
  detail: Type.String(),
  provider_id: Type.String(),
  priority: Type.Integer(),
  target: Type.String(),
  tm_create: Time('creation time'),
  tm_update: Time('last change'),
  tm_delete: Time(`deletion time; ${LIVE_SENTINEL} while live`),
});

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ result: Type.Array(item), next_page_token: Type.String({ description: 'tm_create of the last item; "" when the page is empty' }) });

// --- auth ------------------------------------------------------------------------------------

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ maxLength: 256 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;
export const LoginResult = Type.Object({ username: Type.String(), token: Type.String() });

/** No-store: a token must not sit in a browser or proxy cache (docs/api.md, "Auth"). */
export const LOGIN_CACHE_CONTROL = 'no-store';

// --- agents ----------------------------------------------------------------------------------

const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S+$', description: 'login name, unique among live agents; no spaces' });
export const MIN_PASSWORD_CHARS = 12;
const NewPassword = Type.String({ minLength: MIN_PASSWORD_CHARS, maxLength: 256, description: `write-only; ${MIN_PASSWORD_CHARS} to 256 characters` });
const PERMISSION_BITS = 'bit flags: ProjectSuperAdmin 0x0001, ProjectAll 0x000F, CustomerAgent 0x0010, CustomerAdmin 0x0020, CustomerManager 0x0040, CustomerAll 0x00F0, All 0xFFFF';
const permissionBits = (note = '') => Type.Integer({ minimum: 0, maximum: 0xffff, description: `${PERMISSION_BITS}${note}` });

export const Agent = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  detail: Type.String(),
  permission: Type.Integer(),
  tm_create: Time('creation time'),
  tm_update: Time('last change'),
  tm_delete: Time(`deletion time; ${LIVE_SENTINEL} while live`),
});

export const AgentCreateBody = Type.Object(
  {
    username: Username,
    password: NewPassword,
    name: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
    permission: permissionBits(),
  },
  { additionalProperties: false },
);
export type AgentCreateBody = Static<typeof AgentCreateBody>;

export const AgentUpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
    permission: Type.Optional(permissionBits('; omitted = unchanged')),
    username: Type.Optional(Type.String({ description: 'fixed at creation: accepted only when unchanged (round trip)' })),
    ...readOnly(['id', 'tm_create', 'tm_update', 'tm_delete']),
  },
  { additionalProperties: false },
);
export type AgentUpdateBody = Static<typeof AgentUpdateBody>;

export const AgentPermissionBody = Type.Object({ permission: permissionBits() }, { additionalProperties: false });
export type AgentPermissionBody = Static<typeof AgentPermissionBody>;

export const AgentPasswordBody = Type.Object(
  {
    password: NewPassword,
    old_password: Type.Optional(Type.String({ maxLength: 256, description: 'the current password; required when changing one\'s own' })),
  },
  { additionalProperties: false },
);
export type AgentPasswordBody = Static<typeof AgentPasswordBody>;

// --- access keys -----------------------------------------------------------------------------

const ACCESS_KEY_FIELDS = {
  id: Type.String(),
  agent_id: Type.String({ description: 'the agent whose permission the key carries' }),
  name: Type.String(),
  detail: Type.String(),
  token_prefix: Type.String({ description: 'the first characters of the key, to tell keys apart' }),
  tm_expire: Time(`when the key stops working; ${LIVE_SENTINEL} = never`),
  tm_create: Time('creation time'),
  tm_update: Time('last change'),
  tm_delete: Time(`deletion time; ${LIVE_SENTINEL} while live`),
};
export const AccessKey = Type.Object(ACCESS_KEY_FIELDS);
export const AccessKeyCreated = Type.Object({
  ...ACCESS_KEY_FIELDS,
  token: Type.String({ description: 'the key itself: shown in this response only, stored as a hash' }),
});

export const MAX_ACCESS_KEY_SECONDS = 10 * 366 * 24 * 3600;
export const AccessKeyCreateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
    expire: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ACCESS_KEY_SECONDS, description: 'lifetime in seconds; omitted = does not expire' })),
    agent_id: Type.Optional(Uuid('whose permission the key carries; default: the caller. Another agent\'s needs ProjectSuperAdmin')),
  },
  { additionalProperties: false },
);
export type AccessKeyCreateBody = Static<typeof AccessKeyCreateBody>;

export const AccessKeyUpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
    ...readOnly(['id', 'agent_id', 'token_prefix', 'tm_expire', 'tm_create', 'tm_update', 'tm_delete']),
  },
  { additionalProperties: false },
);
export type AccessKeyUpdateBody = Static<typeof AccessKeyUpdateBody>;
