/**
 * What storing call records costs the event loop: one CallStore.insertBatch on a real SQLite file
 * (WAL) at the record sink's batch sizes, with records shaped like a failed-over call (two
 * attempts), 100 batches per size. The sink writes one batch at a time and yields in between, so
 * a batch's duration is the longest a stored record can hold up a call.
 *
 *   node --import tsx bench/call-record-batch.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { callRecordInputOf } from '../src/call/call-record-sink.ts';
import type { CallRecord } from '../src/call/call-record.ts';
import { createLogger } from '../src/log/logger.ts';
import { openStore } from '../src/store/store.ts';

const BATCHES = 100;
const SIZES = [50, 100, 200];

function record(i: number): CallRecord {
  return {
    call_id: `${i}-bench@10.0.0.1`,
    started_at: new Date(Date.now() - 3_600_000 + i).toISOString(),
    source: '10.0.0.1:5060',
    caller: '+15550001111',
    customer_id: '00000000-0000-0000-0000-000000000001',
    destination: '+15551234567',
    attempts: [
      { route_id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', provider_id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', request_uri: 'sip:0011+15551234567%23@carrier.example.com:5080', status: 503, note: 'Service Unavailable', started_ms: 2, duration_ms: 40 },
      { route_id: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', provider_id: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd', request_uri: 'sip:+15551234567@carrier2.example.com', status: 200, started_ms: 45, duration_ms: 120 },
    ],
    outcome: 'connected',
    status: 200,
    provider_id: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd',
    hangup_by: 'platform',
    talk_ms: 60_000,
    duration_ms: 60_200,
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'outdial-bench-records-'));
try {
  const store = await openStore({ path: path.join(dir, 'outdial.db'), logger: createLogger('silent') });
  let n = 0;
  for (const size of SIZES) {
    const ms: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const batch = Array.from({ length: size }, () => callRecordInputOf(record(n++)));
      const t0 = performance.now();
      await store.calls.insertBatch(batch);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(2);
    process.stdout.write(`insertBatch of ${size}: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (${(Number(at(0.5)) * 1000 / size).toFixed(0)} µs a record)\n`);
  }
  const t0 = performance.now();
  const page = await store.calls.list({ pageSize: 100, pageToken: '', destinationPrefix: '+1555', outcome: 'connected' });
  process.stdout.write(`GET /v1.0/calls page of ${page.items.length} with two filters over ${n} records: ${(performance.now() - t0).toFixed(2)} ms\n`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
