/**
 * A separate process that takes a cluster slot or a lease and then holds it until it is killed:
 * what a crashed outdial instance leaves behind. Started by test/support/cluster-holder-process.ts;
 * its one argument is a JSON `HolderSpec`. It prints one JSON line per event on stdout.
 */
import { testPool } from './postgres-databases.ts';
import { createLogger } from '../../src/log/logger.ts';
import { StoreLease } from '../../src/cluster/lease.ts';
import { PostgresLeaseStore } from '../../src/cluster/postgres-lease-store.ts';
import { createRedisClient } from '../../src/cluster/redis-client.ts';
import { RedisCallLimiter } from '../../src/cluster/redis-call-limiter.ts';
import { RedisLeaseStore } from '../../src/cluster/redis-lease-store.ts';

export type HolderSpec =
  | { mode: 'slot'; redisUrl: string; keyPrefix: string; key: string; maxCalls: number; slotTtlMs: number; instanceId: string }
  | { mode: 'lease'; store: 'redis' | 'postgres'; url: string; keyPrefix?: string; name: string; ttlMs: number; owner: string };

const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const logger = createLogger('silent');
const spec = JSON.parse(process.argv[2] ?? '{}') as HolderSpec;
// Stay alive until killed.
setInterval(() => {}, 60_000);

if (spec.mode === 'slot') {
  const redis = createRedisClient(spec.redisUrl, { commandTimeoutMs: 500 });
  const limiter = new RedisCallLimiter({ redis, logger, keyPrefix: spec.keyPrefix, slotTtlMs: spec.slotTtlMs, instanceId: spec.instanceId });
  redis.once('ready', () => {
    // the limiter's own 'ready' heartbeat runs first; admit once it is up
    const tryOnce = async () => {
      if (limiter.state !== 'up') return void setTimeout(tryOnce, 20);
      const a = await limiter.admit(spec.key, { maxCalls: spec.maxCalls, maxCps: 0 });
      say({ event: a.admitted ? 'admitted' : 'refused', state: limiter.state });
    };
    void tryOnce();
  });
} else {
  const store =
    spec.store === 'redis'
      ? new RedisLeaseStore(createRedisClient(spec.url, { commandTimeoutMs: 500 }), spec.keyPrefix)
      : new PostgresLeaseStore(testPool({ connectionString: spec.url, max: 2 }));
  const lease = new StoreLease({ store, name: spec.name, owner: spec.owner, ttlMs: spec.ttlMs, logger });
  lease.start((held) => say({ event: held ? 'held' : 'lost' }));
  say({ event: 'started' });
}
