import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError, ERRORS, STATUS_HTTP, type ErrorReason } from '../../src/errors.ts';
import { SPEC_REASONS } from './support/spec-reasons.ts';

/** Every reason with the HTTP code and status a client sees (docs/api.md, "Errors"). */
const CODES: Array<[ErrorReason, number, string]> = [
  ['INVALID_CODECS', 400, 'INVALID_ARGUMENT'],
  ['AUTHENTICATION_REQUIRED', 401, 'UNAUTHENTICATED'],
  ['PERMISSION_DENIED', 403, 'PERMISSION_DENIED'],
  ['PROVIDER_NOT_FOUND', 404, 'NOT_FOUND'],
  ['PROVIDER_IN_USE', 409, 'FAILED_PRECONDITION'],
  ['SETUP_NOT_CONFIGURED', 409, 'FAILED_PRECONDITION'],
  ['CARRIER_CREDENTIALS_REJECTED', 422, 'UNPROCESSABLE'],
  ['CARRIER_REQUEST_FAILED', 422, 'UNPROCESSABLE'],
  ['RATE_LIMIT_EXCEEDED', 429, 'RESOURCE_EXHAUSTED'],
  ['CARRIER_UNAVAILABLE', 503, 'UNAVAILABLE'],
  ['STORAGE_UNAVAILABLE', 503, 'UNAVAILABLE'],
  ['UNSUPPORTED_MEDIA_TYPE', 415, 'INVALID_ARGUMENT'],
  ['URL_TOO_LONG', 414, 'INVALID_ARGUMENT'],
  ['HEADERS_TOO_LARGE', 431, 'INVALID_ARGUMENT'],
  ['INVALID_URL', 400, 'INVALID_ARGUMENT'],
  ['MALFORMED_REQUEST', 400, 'INVALID_ARGUMENT'],
  ['REQUEST_TIMEOUT', 408, 'DEADLINE_EXCEEDED'],
  ['INVALID_API_KEY', 400, 'INVALID_ARGUMENT'],
  ['INVALID_PASSWORD', 400, 'INVALID_ARGUMENT'],
  ['INVALID_OLD_PASSWORD', 400, 'INVALID_ARGUMENT'],
  ['AGENT_NOT_FOUND', 404, 'NOT_FOUND'],
  ['ACCESS_KEY_NOT_FOUND', 404, 'NOT_FOUND'],
  ['CALL_NOT_FOUND', 404, 'NOT_FOUND'],
  ['PROVIDER_CALL_NOT_FOUND', 404, 'NOT_FOUND'],
  ['PROVIDER_CALL_LIMIT', 429, 'RESOURCE_EXHAUSTED'],
  ['AGENT_EXISTS', 409, 'ALREADY_EXISTS'],
  ['LAST_PROJECT_SUPER_ADMIN', 409, 'FAILED_PRECONDITION'],
  ['INVALID_JSON_BODY', 400, 'INVALID_ARGUMENT'],
  ['INVALID_ARGUMENT', 400, 'INVALID_ARGUMENT'],
  ['BODY_TOO_LARGE', 400, 'INVALID_ARGUMENT'],
  ['INVALID_ID', 400, 'INVALID_ARGUMENT'],
  ['INVALID_TECH_HEADERS', 400, 'INVALID_ARGUMENT'],
  ['INVALID_HOSTNAME', 400, 'INVALID_ARGUMENT'],
  ['UNSUPPORTED_CARRIER', 400, 'INVALID_ARGUMENT'],
  ['ROUTE_NOT_FOUND', 404, 'NOT_FOUND'],
  ['INVALID_CREDENTIALS', 401, 'UNAUTHENTICATED'],
  ['INTERNAL', 500, 'INTERNAL'],
];

describe('error registry', () => {
  it('has every reason the spec names', () => {
    const missing = SPEC_REASONS.filter((r) => !(r in ERRORS));
    expect(missing).toEqual([]);
  });

  it('has unique reasons and messages, each with a status of the contract', () => {
    const reasons = Object.keys(ERRORS);
    expect(new Set(reasons).size).toBe(reasons.length);
    const messages = Object.values(ERRORS).map((e) => e.message);
    expect(new Set(messages).size).toBe(messages.length);
    for (const def of Object.values(ERRORS)) expect(STATUS_HTTP[def.status]).toBeTypeOf('number');
  });

  it.each(CODES)('%s → %i %s', (reason, http, status) => {
    const e = new ApiError(reason);
    expect(e.httpCode).toBe(http);
    expect(e.status).toBe(status);
    expect(e.message).toBe(ERRORS[reason].message);
  });

  it('has exactly the reasons of the table of codes', () => {
    expect(CODES.map(([reason]) => reason).sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('is documented reason by reason in docs/api.md', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const reason of Object.keys(ERRORS)) expect(doc, reason).toContain(`\`${reason}\``);
  });

  it('lets a call site override the status (PROVIDER_NOT_FOUND in a body is a 400)', () => {
    const e = new ApiError('PROVIDER_NOT_FOUND', 'x', { status: 'INVALID_ARGUMENT' });
    expect([e.httpCode, e.reason]).toEqual([400, 'PROVIDER_NOT_FOUND']);
  });
});
