import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../errors.ts';
import { formatMicros, parseMicros } from '../store/clock.ts';
import type { CallRecordRow, Store } from '../store/store.ts';
import { CallListQuery, CallRecord } from './call-schemas.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import { AuthQuery, IdParams, ListOf, SECURITY, errorResponses } from './schemas.ts';

const TAGS = ['calls'];

/** A query time (0..6 decimals, validated by the schema's pattern) in the API's 6-decimal form. */
export function queryTime(name: string, text: string): string {
  const m = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(text);
  const normalized = m ? `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}Z` : text;
  const micros = parseMicros(normalized);
  // parseMicros reads the date part with Date.parse, which rolls 2026-02-30 over: refuse those.
  if (micros === undefined || formatMicros(micros) !== normalized) {
    throw new ApiError('INVALID_ARGUMENT', `${name} is not a valid time: ${text}`);
  }
  return normalized;
}

export function callView(r: CallRecordRow) {
  return {
    id: r.id,
    call_id: r.call_id,
    customer_id: r.customer_id,
    source: r.source,
    caller: r.caller,
    destination: r.destination,
    outcome: r.outcome,
    status: r.status,
    reason: r.reason,
    provider_id: r.provider_id,
    hangup_by: r.hangup_by,
    talk_ms: r.talk_ms,
    duration_ms: r.duration_ms,
    attempts: r.attempts,
    tm_create: r.tm_create,
    tm_hangup: r.tm_hangup,
  };
}

/**
 * `GET /v1.0/calls` and `GET /v1.0/calls/{id}` (docs/api.md "Call records"): the stored record
 * of every call, newest first, behind the ProjectSuperAdmin check like every configuration
 * endpoint (records name customers, numbers and carriers).
 */
export function callEndpoints(store: Pick<Store, 'calls'>): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/calls', {
      schema: {
        tags: TAGS,
        summary: 'List call records, newest first (by the time the call started), with optional filters',
        security: SECURITY,
        querystring: CallListQuery,
        response: { 200: ListOf(CallRecord), ...errorResponses },
      },
    }, async (request) => {
      const q = request.query;
      const since = q.since === undefined ? undefined : queryTime('since', q.since);
      const until = q.until === undefined ? undefined : queryTime('until', q.until);
      const page = await store.calls.list({
        ...pageRequestOf(q),
        customerId: q.customer_id?.toLowerCase(),
        // `+` in a query string decodes to a space (application/x-www-form-urlencoded)
        destinationPrefix: q.destination?.replace(/^ /, '+'),
        outcome: q.outcome,
        status: q.status === undefined ? undefined : Number(q.status),
        since,
        until,
      });
      return listResponse({ items: page.items.map(callView), nextPageToken: page.nextPageToken });
    });

    app.get('/calls/:id', {
      schema: { tags: TAGS, summary: 'Get one call record with its attempts', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: CallRecord, ...errorResponses } },
    }, async (request) => {
      const record = await store.calls.get(request.params.id.toLowerCase());
      if (!record) throw new ApiError('CALL_NOT_FOUND');
      return callView(record);
    });
  };
}
