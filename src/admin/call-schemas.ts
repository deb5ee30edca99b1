import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PageQuery, Uuid } from './schemas.ts';

/**
 * TypeBox schemas of the call records (`/v1.0/calls`) and provider test calls
 * (`/v1.0/providercalls`), docs/api.md "Call records" and "Provider test calls". Like schemas.ts, they validate the
 * requests and are what the OpenAPI document shows.
 */

const TIME_FORMAT = 'UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ';
const Time = (description: string) => Type.String({ description: `${description} (${TIME_FORMAT})`, examples: ['2026-04-23T10:00:00.000000Z'] });
const NullableTime = (description: string) =>
  Type.Union([Type.String(), Type.Null()], { description: `${description} (${TIME_FORMAT}); null when it did not happen` });
const Nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description });

/** A time in a query: ISO 8601 UTC with 0 to 6 decimals (`2026-04-23T10:00:00Z` is fine). */
export const QUERY_TIME_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$';
const QueryTime = (description: string) => Type.String({ pattern: QUERY_TIME_PATTERN, description: `${description}; UTC, e.g. 2026-04-23T10:00:00Z` });

// --- call records ----------------------------------------------------------------------------

export const CallAttempt = Type.Object({
  route_id: Type.String(),
  provider_id: Type.String(),
  request_uri: Type.String({ description: 'the Request-URI of this attempt' }),
  status: Type.Integer({ description: 'the status that ended the attempt (488: skipped, no common codec; 408: connect timeout; 487: cancelled by the platform)' }),
  reason: Type.String({ description: "the carrier's reason phrase, or why outdial ended the attempt; \"\" when none" }),
  started_ms: Type.Integer({ description: "from the platform's INVITE to this attempt's INVITE" }),
  duration_ms: Type.Integer({ description: 'from this INVITE to its outcome' }),
});

export const CallRecord = Type.Object({
  id: Type.String(),
  call_id: Type.String({ description: "the Call-ID of the platform's INVITE" }),
  customer_id: Nullable(Type.String(), 'the customer of the call; null when it was refused before its customer was read'),
  source: Type.String({ description: "the platform's address, ip:port" }),
  caller: Type.String({ description: "the user part of the platform's From; \"\" when none" }),
  destination: Nullable(Type.String(), 'the normalized number (+ and digits); null when the Request-URI held none'),
  outcome: Type.Union([Type.Literal('connected'), Type.Literal('failed')]),
  status: Nullable(Type.Integer(), 'the final status the platform got (200 when connected, 487 when it cancelled); null when none was recorded'),
  reason: Type.String({ description: 'why the call failed or ended, in words; "" when there is nothing to say' }),
  provider_id: Nullable(Type.String(), 'the provider that answered'),
  hangup_by: Type.Union([Type.Literal('platform'), Type.Literal('carrier'), Type.Literal('outdial'), Type.Null()], { description: 'who ended a connected call' }),
  talk_ms: Nullable(Type.Integer(), 'from the answer to the end; null when not connected'),
  duration_ms: Type.Integer({ description: "from the platform's INVITE to the end" }),
  attempts: Type.Array(CallAttempt, { description: 'every carrier attempt, in order' }),
  tm_create: Time("when the platform's INVITE arrived"),
  tm_hangup: Time('when the call ended'),
});

export const CallListQuery = Type.Object({
  ...PageQuery.properties,
  customer_id: Type.Optional(Uuid('only the calls of this customer')),
  destination: Type.Optional(
    Type.String({ pattern: '^[+ ][0-9]{1,15}$', description: 'only destinations starting with this: + and 1..15 digits (a + sent unencoded arrives as a space and is accepted)' }),
  ),
  outcome: Type.Optional(Type.Union([Type.Literal('connected'), Type.Literal('failed')], { description: 'only connected or only failed calls' })),
  status: Type.Optional(Type.String({ pattern: '^[1-6][0-9]{2}$', description: 'only calls whose final status was this (e.g. 486)' })),
  since: Type.Optional(QueryTime('only calls that started at or after this')),
  until: Type.Optional(QueryTime('only calls that started before this')),
});
export type CallListQuery = Static<typeof CallListQuery>;

// --- provider test calls ---------------------------------------------------------------------

export const ProviderCallBody = Type.Object(
  {
    provider_id: Uuid('the live provider to call through (routes are not consulted)'),
    destination: Type.String({ pattern: '^\\+[0-9]{1,15}$', description: 'the number to call: + and 1..15 digits' }),
    source: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{1,32}$', description: 'the calling number (From user part): digits, optionally after a +; omitted = the SIP stack\'s default' })),
  },
  { additionalProperties: false },
);
export type ProviderCallBody = Static<typeof ProviderCallBody>;

export const ProviderCall = Type.Object({
  id: Type.String(),
  provider_id: Type.String(),
  destination: Type.String(),
  source: Type.String({ description: 'the calling number sent; "" = the SIP stack\'s default' }),
  request_uri: Type.String({ description: 'the Request-URI of the INVITE' }),
  codecs: Type.Array(Type.String(), { description: 'the codec filter applied to the test offer; [] = offer sent unchanged' }),
  status: Type.Union([Type.Literal('calling'), Type.Literal('answered'), Type.Literal('failed'), Type.Literal('timeout')], {
    description: 'calling until the carrier answered (then hung up at once), refused, or stayed silent',
  }),
  sip_status: Nullable(Type.Integer(), "the carrier's final status (200 when answered); null when it sent none"),
  sip_reason: Type.String({ description: "the carrier's reason phrase; \"\" when none" }),
  reason: Type.String({ description: 'what happened, in words; "" while calling' }),
  tm_create: Time('when the test call was placed'),
  tm_ringing: NullableTime("the carrier's first provisional response above 100"),
  tm_answer: NullableTime("the carrier's 2xx"),
  tm_hangup: NullableTime('the end (BYE sent, final status, CANCEL)'),
  tm_update: Time('last change'),
});

export const ProviderCallListQuery = Type.Object({
  ...PageQuery.properties,
  provider_id: Type.Optional(Uuid('only the test calls of this provider')),
});
export type ProviderCallListQuery = Static<typeof ProviderCallListQuery>;
