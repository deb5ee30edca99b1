import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** This instance's name in Redis and in leases, unless configured: host, process and a random tag. */
export function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
