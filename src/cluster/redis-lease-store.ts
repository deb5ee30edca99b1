/**
 * Leases in Redis (docs/cluster.md §4.1): `lease:<name>` holds the holder's id and expires with
 * the lease (SET NX PX); renewal and release check the owner in one script, so an instance never
 * extends or deletes a lease another instance took after its own expired.
 */
import type { Redis } from 'ioredis';
import type { LeaseClaim, LeaseStore } from './lease.ts';
import { describeRedis } from './redis-client.ts';

const HELD: LeaseClaim = Object.freeze({ held: true });

export class RedisLeaseStore implements LeaseStore {
  readonly description: string;

  /** `redis` from createRedisClient; its owner closes it */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'outdial:',
    /** how long a call waits for a connection that is being made (at start, after an outage) */
    private readonly readyWaitMs = 1000,
  ) {
    this.description = `redis ${describeRedis(redis)}`;
  }

  /** Waits (bounded) for a connection on its way, so a starting instance does not log an outage. */
  private connected(): Promise<void> {
    const status = this.redis.status;
    if (status === 'ready' || status === 'end' || status === 'close') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, this.readyWaitMs);
      this.redis.on('ready', done);
    });
  }

  async claim(name: string, owner: string, ttlMs: number): Promise<LeaseClaim> {
    await this.connected();
    const left = await this.redis.outdialLeaseClaim(`${this.keyPrefix}lease:${name}`, owner, Math.ceil(ttlMs));
    return left === 0 ? HELD : { held: false, retryInMs: left };
  }

  async release(name: string, owner: string): Promise<void> {
    await this.connected();
    await this.redis.outdialLeaseRelease(`${this.keyPrefix}lease:${name}`, owner);
  }
}
