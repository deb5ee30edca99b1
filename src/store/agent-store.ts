import { randomUUID } from 'node:crypto';
import { LIVE_SENTINEL } from '../routing/model.ts';
import type { Db } from './db.ts';
import type { MonotonicClock } from './clock.ts';

/** Permission bit flags (VoIPBIN agent permissions). */
export const Permission = {
  ProjectSuperAdmin: 0x0001,
  ProjectAll: 0x000f,
  CustomerAgent: 0x0010,
  CustomerAdmin: 0x0020,
  CustomerManager: 0x0040,
  CustomerAll: 0x00f0,
  All: 0xffff,
} as const;

export interface AgentRecord {
  id: string;
  username: string;
  /** scrypt hash in the format of admin/auth/password.ts; never leaves the server. */
  password_hash: string;
  permission: number;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export class AgentStore {
  constructor(
    private readonly db: Db,
    private readonly clock: MonotonicClock,
  ) {}

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM agents').get() as { n: number }).n;
  }

  get(id: string): AgentRecord | undefined {
    return this.db.prepare('SELECT * FROM agents WHERE id = ? AND tm_delete = ?').get(id, LIVE_SENTINEL) as AgentRecord | undefined;
  }

  findByUsername(username: string): AgentRecord | undefined {
    return this.db.prepare('SELECT * FROM agents WHERE username = ? AND tm_delete = ?').get(username, LIVE_SENTINEL) as AgentRecord | undefined;
  }

  create(input: { username: string; passwordHash: string; permission: number }): AgentRecord {
    return this.db
      .transaction(() => {
        const now = this.clock.next();
        const id = randomUUID();
        this.db
          .prepare('INSERT INTO agents (id, username, password_hash, permission, tm_create, tm_update, tm_delete) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(id, input.username, input.passwordHash, input.permission, now, now, LIVE_SENTINEL);
        return this.get(id)!;
      })
      .immediate();
  }

  /**
   * First-start bootstrap: creates the agent only while the table is empty, inside one write
   * transaction, so two processes starting together cannot both create one.
   */
  createIfNoAgents(input: { username: string; passwordHash: string; permission: number }): AgentRecord | undefined {
    return this.db
      .transaction(() => (this.count() === 0 ? this.create(input) : undefined))
      .immediate();
  }
}
