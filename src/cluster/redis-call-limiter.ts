/**
 * Cluster-wide limits in Redis (docs/cluster.md §2): each instance counts its own slots under a
 * key in one field of a hash, stays alive in Redis by a heartbeat, and a crashed instance's
 * fields stop counting once its heartbeat is older than the slot TTL. One script run (one round
 * trip) admits or refuses an attempt against both `max_calls` and `max_cps`.
 *
 * Redis must never hold a call up (docs/cluster.md §2.3): while it cannot answer, every decision
 * is this instance's alone (the same limits, counted here), one warning is logged when that
 * starts and one line when Redis is back, and nothing is queued for Redis meanwhile. The counts
 * kept here are the truth about this instance: the first heartbeat after an outage writes them
 * back.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.ts';
import { checkLimits, REFUSED_MAX_CALLS, REFUSED_MAX_CPS, type Admission, type CallLimiter, type CallLimits, type CallSlot } from './call-limiter.ts';
import { defaultInstanceId } from './instance-id.ts';
import { HeldSlot, LocalLimits } from './local-call-limiter.ts';
import { describeRedis } from './redis-client.ts';
import { rateWindow } from './rate-window.ts';

/** connecting: not yet heard from Redis. up: Redis decides. down: this instance decides alone. */
export type LimiterLinkState = 'connecting' | 'up' | 'down' | 'closed';

const LEGAL: Readonly<Record<LimiterLinkState, readonly LimiterLinkState[]>> = {
  connecting: ['up', 'down', 'closed'],
  up: ['down', 'closed'],
  down: ['up', 'closed'],
  closed: [],
};

/** probes (probeMs apart) a first connection may take before the limiter counts Redis as down */
const CONNECTING_PROBES = 3;

export interface RedisCallLimiterOptions {
  /** a client from createRedisClient (bounded waits, no offline queue); its owner closes it */
  readonly redis: Redis;
  readonly logger: Logger;
  /** this instance's name in Redis; default host:pid:random */
  readonly instanceId?: string;
  /** prefix of every key; default `outdial:` */
  readonly keyPrefix?: string;
  /** how long a silent instance's slots keep counting; default 15 s */
  readonly slotTtlMs?: number;
  /** how often this instance tells Redis it is alive; default a third of slotTtlMs */
  readonly heartbeatMs?: number;
  /** how often Redis is tried again while it is down; default 1 s */
  readonly probeMs?: number;
  /** monotonic ms for the windows counted here; default performance.now */
  readonly now?: () => number;
}

export class RedisCallLimiter implements CallLimiter {
  readonly instanceId: string;
  private readonly redis: Redis;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly instancesKey: string;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly probeMs: number;
  private readonly local: LocalLimits;
  private linkState: LimiterLinkState = 'connecting';
  private attemptSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private probesWhileConnecting = 0;
  /** a slot whose key the cluster counts: its release is reported */
  private readonly releaseShared = (key: string) => this.release(key);
  /** a slot of a key without limits: counted here only */
  private readonly releaseLocal = (key: string) => void this.local.give(key);
  /** keys released since the last report; reported together on the next turn of the event loop */
  private readonly released = new Set<string>();
  private reportScheduled = false;
  private readonly reportReleases = () => this.flushReleases();
  private readonly onReady = () => void this.beat();
  private readonly onClose = () => this.fail(new Error('connection to redis lost'));

  constructor(opts: RedisCallLimiterOptions) {
    this.redis = opts.redis;
    this.logger = opts.logger;
    this.instanceId = opts.instanceId ?? defaultInstanceId();
    this.prefix = opts.keyPrefix ?? 'outdial:';
    this.instancesKey = `${this.prefix}instances`;
    this.ttlMs = opts.slotTtlMs ?? 15_000;
    this.heartbeatMs = opts.heartbeatMs ?? Math.floor(this.ttlMs / 3);
    this.probeMs = opts.probeMs ?? 1000;
    if (!(this.heartbeatMs > 0 && this.heartbeatMs < this.ttlMs)) throw new RangeError('heartbeatMs must be positive and below slotTtlMs');
    this.local = new LocalLimits(opts.now);
    this.redis.on('ready', this.onReady);
    this.redis.on('close', this.onClose);
    if (this.redis.status === 'ready') void this.beat();
    else this.schedule(this.probeMs);
  }

  get state(): LimiterLinkState {
    return this.linkState;
  }

  async admit(key: string, limits: CallLimits): Promise<Admission> {
    checkLimits(limits);
    // Nothing to share: a key without limits is counted here only, without a round trip.
    if (limits.maxCalls === 0 && limits.maxCps === 0) return this.decideHere(key, limits, false);
    if (this.linkState !== 'up') return this.decideHere(key, limits, true);
    const mine = this.local.reserve(key, true);
    const rate = limits.maxCps > 0 ? rateWindow(limits.maxCps) : undefined;
    let verdict: number;
    try {
      verdict = await this.redis.outdialAdmit(
        this.instancesKey,
        `${this.prefix}calls:${key}`,
        `${this.prefix}cps:${key}`,
        this.instanceId,
        this.ttlMs,
        mine,
        limits.maxCalls,
        rate?.capacity ?? 0,
        rate?.windowMs ?? 0,
        ++this.attemptSeq,
      );
    } catch (err) {
      this.local.give(key);
      this.fail(err);
      return this.decideHere(key, limits, true);
    }
    if (verdict === 0) {
      if (limits.maxCps > 0) this.local.noteAttempt(key, limits.maxCps);
      return new HeldSlot(key, this.releaseShared);
    }
    this.local.give(key);
    return verdict === 1 ? REFUSED_MAX_CALLS : REFUSED_MAX_CPS;
  }

  async tryAcquire(key: string, max: number): Promise<CallSlot | null> {
    const a = await this.admit(key, { maxCalls: max, maxCps: 0 });
    return a.admitted ? a : null;
  }

  async tryRate(key: string, perSecond: number): Promise<boolean> {
    const a = await this.admit(key, { maxCalls: 0, maxCps: perSecond });
    if (!a.admitted) return false;
    a.release();
    return true;
  }

  held(key: string): number {
    return this.local.held(key);
  }

  async clusterHeld(key: string): Promise<number> {
    if (this.linkState !== 'up') return this.local.held(key);
    try {
      return await this.redis.outdialClusterHeld(this.instancesKey, `${this.prefix}calls:${key}`, this.instanceId);
    } catch (err) {
      this.fail(err);
      return this.local.held(key);
    }
  }

  /** Stops the heartbeat and takes this instance out of the cluster's counts at once. */
  async close(): Promise<void> {
    if (this.linkState === 'closed') return;
    const wasUp = this.linkState === 'up';
    this.transition('closed');
    if (this.timer) clearTimeout(this.timer);
    this.redis.off('ready', this.onReady);
    this.redis.off('close', this.onClose);
    this.local.clear();
    if (wasUp) await this.redis.hdel(this.instancesKey, this.instanceId).catch(() => {});
  }

  private decideHere(key: string, limits: CallLimits, shared: boolean): Admission {
    return this.local.admit(key, limits, shared) ?? new HeldSlot(key, shared ? this.releaseShared : this.releaseLocal);
  }

  /**
   * Releases reach Redis as this instance's new count under the key, once per key per turn of
   * the event loop however many calls ended in it. While Redis is down nothing is sent: the
   * heartbeat that finds it back writes the counts.
   */
  private release(key: string): void {
    this.local.give(key);
    if (this.linkState !== 'up') return;
    this.released.add(key);
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setImmediate(this.reportReleases);
  }

  private flushReleases(): void {
    this.reportScheduled = false;
    if (this.linkState !== 'up') {
      this.released.clear();
      return;
    }
    for (const key of this.released) {
      this.redis.outdialSetCount(`${this.prefix}calls:${key}`, this.instanceId, this.local.held(key), this.ttlMs).catch((err: unknown) => this.fail(err));
    }
    this.released.clear();
  }

  /** One heartbeat: alive for another TTL, and every shared count written again. */
  private async beat(): Promise<void> {
    if (this.beating || this.linkState === 'closed') return;
    if (this.linkState === 'connecting' && this.redis.status !== 'ready') {
      // Still dialling: a refused connection shows as 'close'; one that never gets ready
      // (a server that accepts and does not answer) counts as down after a few probes.
      if (++this.probesWhileConnecting >= CONNECTING_PROBES) this.fail(new Error(`redis not ready (${this.redis.status})`));
      else this.schedule(this.probeMs);
      return;
    }
    this.beating = true;
    if (this.timer) clearTimeout(this.timer);
    const counts = this.local.sharedCounts();
    const keys: string[] = [this.instancesKey];
    const args: Array<string | number> = [this.instanceId, this.ttlMs];
    for (const [key, count] of counts) {
      keys.push(`${this.prefix}calls:${key}`);
      args.push(count);
    }
    try {
      await this.redis.outdialHeartbeat(keys.length, ...keys, ...args);
      if (this.closed()) return;
      this.local.forgetReported(counts);
      this.recover();
    } catch (err) {
      this.fail(err);
    } finally {
      this.beating = false;
      if (!this.closed()) this.schedule(this.linkState === 'up' ? this.heartbeatMs : this.probeMs);
    }
  }

  /** read through a call: close() may come while a heartbeat is on its way */
  private closed(): boolean {
    return this.linkState === 'closed';
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beat(), ms);
    this.timer.unref();
  }

  private recover(): void {
    if (this.linkState === 'up') return;
    const from = this.linkState;
    this.transition('up');
    if (from === 'down') this.logger.info({ redis: describeRedis(this.redis), instance: this.instanceId }, 'cluster limits restored');
    else this.logger.info({ redis: describeRedis(this.redis), instance: this.instanceId }, 'cluster limits on redis');
  }

  private fail(err: unknown): void {
    if (this.linkState === 'down' || this.linkState === 'closed') return;
    this.transition('down');
    this.logger.warn(
      { redis: describeRedis(this.redis), instance: this.instanceId, err: err instanceof Error ? err.message : String(err) },
      'cluster limits fell back to per-instance',
    );
    this.schedule(this.probeMs);
  }

  private transition(to: LimiterLinkState): void {
    if (!LEGAL[this.linkState].includes(to)) throw new Error(`cluster limiter: illegal transition ${this.linkState} -> ${to}`);
    this.linkState = to;
  }
}
