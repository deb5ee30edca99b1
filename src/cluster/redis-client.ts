/**
 * The one ioredis connection the cluster pieces share, configured so that Redis can never hold a
 * call up (docs/cluster.md §1): a command fails at once while the connection is down (no offline
 * queue), is not resent after a reconnect, and gives up after `commandTimeoutMs`; a connection
 * that stops answering is dropped after `socketTimeoutMs` and redialled with a capped backoff.
 * The scripts of redis-scripts.ts are defined here (EVALSHA, with EVAL when Redis lost them), and
 * their types declared beside them: ioredis' typings for custom commands live in this file only.
 */
import { Redis, type Result } from 'ioredis';
import type { Logger } from '../log/logger.ts';
import { ADMIT, CLUSTER_HELD, HEARTBEAT, LEASE_CLAIM, LEASE_RELEASE, SET_COUNT } from './redis-scripts.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    outdialAdmit(instances: string, calls: string, cps: string, ...args: Array<string | number>): Result<number, Context>;
    outdialSetCount(calls: string, ...args: Array<string | number>): Result<number, Context>;
    outdialHeartbeat(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Result<number, Context>;
    outdialClusterHeld(instances: string, calls: string, me: string): Result<number, Context>;
    outdialLeaseClaim(lease: string, owner: string, ttlMs: number): Result<number, Context>;
    outdialLeaseRelease(lease: string, owner: string): Result<number, Context>;
  }
}

export interface RedisClientOptions {
  /** how long one command may wait for its reply; default 50 ms */
  readonly commandTimeoutMs?: number;
  /** how long a connection attempt may take; default 1000 ms */
  readonly connectTimeoutMs?: number;
  /** a connection with a command outstanding and nothing received for this long is dropped; default 1000 ms */
  readonly socketTimeoutMs?: number;
  /** the longest wait between reconnection attempts; default 2000 ms */
  readonly maxReconnectDelayMs?: number;
  /** shown by CLIENT LIST */
  readonly connectionName?: string;
  /** connection errors are logged here at debug level (the users of the client log the outage itself) */
  readonly logger?: Logger;
}

export function createRedisClient(url: string, opts: RedisClientOptions = {}): Redis {
  const maxDelay = opts.maxReconnectDelayMs ?? 2000;
  const client = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: opts.commandTimeoutMs ?? 50,
    connectTimeout: opts.connectTimeoutMs ?? 1000,
    socketTimeout: opts.socketTimeoutMs ?? 1000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 8), maxDelay),
    // RESP2: what every Redis (and compatible server) speaks; the scripts' replies are plain integers.
    protocol: 2,
    connectionName: opts.connectionName,
    scripts: {
      outdialAdmit: ADMIT,
      outdialSetCount: SET_COUNT,
      outdialHeartbeat: HEARTBEAT,
      outdialClusterHeld: CLUSTER_HELD,
      outdialLeaseClaim: LEASE_CLAIM,
      outdialLeaseRelease: LEASE_RELEASE,
    },
  });
  // Without a listener ioredis prints every connection error to stderr.
  client.on('error', (err: Error) => opts.logger?.debug({ err: err.message, redis: describeRedis(client) }, 'redis connection error'));
  // Connecting in the background: nothing waits for it; until it is up the users decide locally.
  client.connect().catch(() => {});
  return client;
}

/** host:port of the client's server, for log lines (never the URL: it may carry a password). */
export function describeRedis(client: Redis): string {
  const o = client.options;
  return o.path ? o.path : `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
}
