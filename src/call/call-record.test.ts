import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeAttempts } from '../routing/dial-route-preview.ts';
import { buildDialPlanSnapshot } from '../routing/dial-plan.ts';
import { provider, route } from '../../test/support/routing-fixtures/records.ts';
import { DEFAULT_CUSTOMER_ID } from '../routing/model.ts';
import { CallRecordBuilder } from './call-record.ts';

const [first, second] = computeAttempts(
  buildDialPlanSnapshot(
    [provider('p1', { codecs: 'PCMA,PCMU', tech_headers: { 'X-Secret-Trunk-Key': 'hunter2' } }), provider('p2')],
    [route('r1', 'p1', '+1', { priority: 1 }), route('r2', 'p2', '+1', { priority: 2 })],
  ),
  '+15551234567',
  DEFAULT_CUSTOMER_ID,
);
if (!first || !second) throw new Error('fixture plan has two attempts');

describe('CallRecordBuilder', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2024-05-01T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records every attempt with its timing, the connected provider and who hung up', () => {
    const r = new CallRecordBuilder('call-1', '127.0.0.1:5060');
    r.routing(DEFAULT_CUSTOMER_ID, '+15551234567');
    r.caller('+15557654321');
    const t0 = Date.now();
    vi.advanceTimersByTime(100);
    r.attempt(first, 503, t0 + 10, 'Service Unavailable');
    const t1 = Date.now();
    vi.advanceTimersByTime(250);
    r.attempt(second, 200, t1);
    r.connected();
    vi.advanceTimersByTime(5000);
    r.hangup('carrier');
    r.hangup('platform'); // the first to hang up is the one recorded
    expect(r.build()).toEqual({
      call_id: 'call-1',
      started_at: new Date(t0).toISOString(),
      source: '127.0.0.1:5060',
      caller: '+15557654321',
      customer_id: DEFAULT_CUSTOMER_ID,
      destination: '+15551234567',
      attempts: [
        { route_id: 'r1', provider_id: 'p1', request_uri: first.requestUri, status: 503, note: 'Service Unavailable', started_ms: 10, duration_ms: 90 },
        { route_id: 'r2', provider_id: 'p2', request_uri: second.requestUri, status: 200, started_ms: 100, duration_ms: 250 },
      ],
      outcome: 'connected',
      status: 200,
      provider_id: 'p2',
      hangup_by: 'carrier',
      talk_ms: 5000,
      duration_ms: 5350,
    });
  });

  it('says why outdial ended a connected call itself', () => {
    const r = new CallRecordBuilder('call-2', '127.0.0.1:5060');
    r.attempt(first, 200, Date.now());
    r.connected();
    r.hangup('outdial', 'session expired');
    r.hangup('platform', 'late');
    expect(r.build()).toMatchObject({ outcome: 'connected', status: 200, hangup_by: 'outdial', reason: 'session expired' });
  });

  it('keeps the first outcome: a later one does not overwrite it', () => {
    const r = new CallRecordBuilder('call-3', '127.0.0.1:5060');
    r.outcome(487, 'cancelled by platform');
    r.outcome(503, 'Service Unavailable');
    expect(r.build()).toMatchObject({ outcome: 'failed', status: 487, reason: 'cancelled by platform', attempts: [] });
    expect(r.build()).not.toHaveProperty('talk_ms');
    expect(r.build()).not.toHaveProperty('provider_id');
  });

  it('never carries provider tech headers (they may hold credentials)', () => {
    const r = new CallRecordBuilder('call-4', '127.0.0.1:5060');
    r.attempt(first, 200, Date.now());
    r.connected();
    expect(JSON.stringify(r.build())).not.toContain('hunter2');
  });
});
