import { describe, expect, it } from 'vitest';
import { ApiError, ERRORS, STATUS_HTTP, type ErrorReason } from '../../src/errors.ts';
import { SPEC_REASONS } from './support/spec-reasons.ts';


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

  it.each([
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
    ['INTERNAL', 500, 'INTERNAL'],
  ] as Array<[ErrorReason, number, string]>)('%s → %i %s', (reason, http, status) => {
    const e = new ApiError(reason);
    expect(e.httpCode).toBe(http);
    expect(e.status).toBe(status);
    expect(e.message).toBe(ERRORS[reason].message);
  });

  it('lets a call site override the status (PROVIDER_NOT_FOUND in a body is a 400)', () => {
    const e = new ApiError('PROVIDER_NOT_FOUND', 'x', { status: 'INVALID_ARGUMENT' });
    expect([e.httpCode, e.reason]).toEqual([400, 'PROVIDER_NOT_FOUND']);
  });
});
