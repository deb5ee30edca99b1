/**
 * What an engine uses to act as one of several instances (docs/cluster.md §6): the call limiter
 * (cluster-wide through Redis when OUTDIAL_REDIS_URL is set, else counted in this process) and
 * leases for one-instance-at-a-time jobs (in Redis when configured, else in PostgreSQL when the
 * store is there, else always held: a SQLite file is one machine's).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.ts';
import type { CallLimiter } from './call-limiter.ts';
import { AlwaysHeldLease, StoreLease, type Lease, type LeaseStore } from './lease.ts';
import { LocalCallLimiter } from './local-call-limiter.ts';
import { defaultInstanceId } from './instance-id.ts';

export interface ClusterServices {
  /** this instance's name in Redis and in leases */
  readonly instanceId: string;
  readonly limiter: CallLimiter;
  /** the lease of one kind of job (`probes`, `registrations`); one per name and engine */
  lease(name: string): Lease;
  /** after the jobs and the call path have stopped */
  close(): Promise<void>;
}

export interface ClusterServicesOptions {
  /** config redis.url; "" = no Redis */
  readonly redisUrl: string;
  /** the store's lease store (PostgreSQL), if it has one */
  readonly storeLeases: LeaseStore | undefined;
  /** true when several instances may share the store (PostgreSQL): per-instance limits are then worth a warning */
  readonly sharedStore: boolean;
  readonly logger: Logger;
  readonly instanceId?: string;
  /** Redis command timeout (default 50 ms, docs/cluster.md §1); tests on a loaded machine raise it */
  readonly redisCommandTimeoutMs?: number;
  /** lease time of the jobs' leases (default 10 s) */
  readonly leaseTtlMs?: number;
}

/**
 * Redis's modules (ioredis with them) are loaded only when Redis is configured: an instance on its
 * own does not carry them (docs/performance.md §13).
 */
export async function startClusterServices(opts: ClusterServicesOptions): Promise<ClusterServices> {
  const instanceId = opts.instanceId ?? defaultInstanceId();
  const logger = opts.logger.child({ component: 'cluster' });
  let redis: Redis | undefined;
  let limiter: CallLimiter;
  let leaseStore: LeaseStore | undefined;
  if (opts.redisUrl !== '') {
    const [{ createRedisClient, describeRedis }, { RedisCallLimiter }, { RedisLeaseStore }] = await Promise.all([
      import('./redis-client.ts'),
      import('./redis-call-limiter.ts'),
      import('./redis-lease-store.ts'),
    ]);
    redis = createRedisClient(opts.redisUrl, {
      logger,
      connectionName: `outdial:${instanceId}`,
      ...(opts.redisCommandTimeoutMs !== undefined ? { commandTimeoutMs: opts.redisCommandTimeoutMs } : {}),
    });
    limiter = new RedisCallLimiter({ redis, logger, instanceId });
    leaseStore = new RedisLeaseStore(redis);
    logger.info({ redis: describeRedis(redis), instance: instanceId }, 'cluster limits and leases in redis');
  } else {
    limiter = new LocalCallLimiter();
    leaseStore = opts.storeLeases;
    const line = { instance: instanceId, leases: leaseStore ? leaseStore.description : 'this instance only' };
    // Several instances on one database without Redis: each counts its own calls (docs/cluster.md §2.3).
    if (opts.sharedStore) logger.warn(line, 'call limits are per instance: set OUTDIAL_REDIS_URL to share them across instances');
    else logger.info(line, 'call limits are per instance');
  }
  const leases: Lease[] = [];
  return {
    instanceId,
    limiter,
    lease(name) {
      const lease = leaseStore
        ? new StoreLease({ store: leaseStore, name, owner: instanceId, logger, ...(opts.leaseTtlMs !== undefined ? { ttlMs: opts.leaseTtlMs } : {}) })
        : new AlwaysHeldLease(name);
      leases.push(lease);
      return lease;
    },
    async close() {
      for (const lease of leases) await lease.stop();
      await limiter.close();
      redis?.disconnect();
    },
  };
}
