/**
 * The concurrent-call limit across two whole engines through a real Redis 7 (docs/cluster.md §2,
 * §6): with OUTDIAL_MAX_CALLS=1 for the cluster, a second call placed through the other instance
 * while the first is up is refused; with Redis stopped mid-test, calls go on under per-instance
 * limits and each instance logs the fallback once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCallLimiter } from '../../src/cluster/redis-call-limiter.ts';
import { describeRun, finalStatus } from '../routing/support/routing-harness.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { startCluster, until, type Cluster, type Instance } from './support/cluster-harness.ts';

let pgServer: PostgresServer;
let redis: RedisServer;
let cluster: Cluster | undefined;

beforeAll(async () => {
  [pgServer, redis] = await Promise.all([startPostgres(), startRedis()]);
});
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  if (!redis.isRunning()) await redis.start();
});
afterAll(async () => {
  await Promise.all([pgServer?.stop(), redis?.close()]);
});

const FELL_BACK = 'cluster limits fell back to per-instance';

function limiterOf(i: Instance): RedisCallLimiter {
  const limiter = i.t.engine.cluster.limiter;
  if (!(limiter instanceof RedisCallLimiter)) throw new Error('expected the Redis limiter');
  return limiter;
}

/** Two instances sharing OUTDIAL_MAX_CALLS=1 through Redis, both with Redis up. */
async function twoInstances(): Promise<[Instance, Instance]> {
  cluster = await startCluster(pgServer);
  const overrides = { routing: { maxConcurrentCalls: 1 }, redis: { url: redis.url } };
  // A generous Redis command timeout: the test machine is shared, and a slow reply would read as an outage.
  const engineOptions = { cluster: { redisCommandTimeoutMs: 1000 } };
  const a = await cluster.start('A', overrides, engineOptions);
  const b = await cluster.start('B', overrides, engineOptions);
  await until(() => limiterOf(a).state === 'up' && limiterOf(b).state === 'up', 10_000, 'both limiters on Redis');
  return [a, b];
}

/** the call records an instance logged: outcome and reason */
const records = (i: Instance) => i.t.logs.lines.filter((l) => l.msg === 'call ended').map((l) => ({ outcome: l.outcome, reason: l.reason }));

describe('the concurrent-call limit across instances', () => {
  it('OUTDIAL_MAX_CALLS=1 for the cluster: a second call through the other instance is refused while the first is up', async () => {
    const [a, b] = await twoInstances();
    const carrier = await cluster!.carrier('carrier-answer.xml', { calls: 2 });
    await cluster!.provision(a, carrier, { target: '+1' });
    await until(() => b.routes('+15551234567'), 1000, 'B to have the route');

    const first = a.platform('platform-call.xml', '+15551234567', { pauseMs: 4000 });
    await until(() => a.t.engine.calls.activeCalls() === 1, 5000, 'the first call up on A');
    const second = await b.platform('platform-call-fails.xml', '+15551234567');
    expect(finalStatus(second), describeRun('second platform', second)).toBe(503);
    expect(records(b)).toEqual([{ outcome: 'failed', reason: 'concurrent call limit' }]);
    expect(b.t.logs.lines.some((l) => l.msg === FELL_BACK)).toBe(false);
    const done = await first;
    expect(done.code, describeRun('first platform', done)).toBe(0);

    // The slot is back: the next call through B goes.
    await until(async () => (await limiterOf(b).clusterHeld('calls')) === 0, 5000, 'the slot to be released');
    const third = await b.platform('platform-call.xml', '+15551234567');
    expect(third.code, describeRun('third platform', third)).toBe(0);
    expect((await carrier.done).code).toBe(0);
  });

  it('Redis stopped mid-test: calls go on under per-instance limits, and each instance warns once', async () => {
    const [a, b] = await twoInstances();
    const carrier = await cluster!.carrier('carrier-answer.xml', { calls: 2 });
    await cluster!.provision(a, carrier, { target: '+1' });
    await until(() => b.routes('+15551234567'), 1000, 'B to have the route');
    await redis.stop();
    await until(() => limiterOf(a).state === 'down' && limiterOf(b).state === 'down', 5000, 'both limiters to fall back');

    // One call on each instance at once: each is within its own limit of 1.
    const onA = a.platform('platform-call.xml', '+15551234567', { pauseMs: 3000 });
    await until(() => a.t.engine.calls.activeCalls() === 1, 5000, 'the call up on A');
    const onB = b.platform('platform-call.xml', '+15551234567', { pauseMs: 500 });
    // The per-instance limit still holds: a second call on A is refused.
    const overA = await a.platform('platform-call-fails.xml', '+15551234567');
    expect(finalStatus(overA), describeRun('over the limit on A', overA)).toBe(503);
    for (const [name, run] of [['A', await onA], ['B', await onB]] as const) expect(run.code, describeRun(`call on ${name}`, run)).toBe(0);
    expect((await carrier.done).code).toBe(0);
    for (const i of [a, b]) {
      const warnings = i.t.logs.lines.filter((l) => l.msg === FELL_BACK);
      expect([i.name, warnings.length]).toEqual([i.name, 1]);
      expect(warnings[0]!.level).toBe(40);
    }

    // Redis back: the cluster-wide limit again.
    await redis.start();
    await until(() => limiterOf(a).state === 'up' && limiterOf(b).state === 'up', 10_000, 'both limiters back on Redis');
  });
});
