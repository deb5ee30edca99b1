import { randomUUID } from 'node:crypto';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import type { AgentInput, AgentRecord, AgentStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

export class SqliteAgentStore implements AgentStore {
  constructor(private readonly conn: SqliteConnection) {}

  count(): Promise<number> {
    return this.conn.read(() => this.countNow());
  }

  get(id: string): Promise<AgentRecord | undefined> {
    return this.conn.read(() => this.getNow(id));
  }

  findByUsername(username: string): Promise<AgentRecord | undefined> {
    return this.conn.read(
      () => this.conn.db.prepare('SELECT * FROM agents WHERE username = ? AND tm_delete = ?').get(username, LIVE_SENTINEL) as AgentRecord | undefined,
    );
  }

  create(input: AgentInput): Promise<AgentRecord> {
    return this.conn.write(() => this.insertNow(input));
  }

  createIfNoAgents(input: AgentInput): Promise<AgentRecord | undefined> {
    return this.conn.write(() => (this.countNow() === 0 ? this.insertNow(input) : undefined));
  }

  private countNow(): number {
    return (this.conn.db.prepare('SELECT count(*) AS n FROM agents').get() as { n: number }).n;
  }

  private getNow(id: string): AgentRecord | undefined {
    return this.conn.db.prepare('SELECT * FROM agents WHERE id = ? AND tm_delete = ?').get(id, LIVE_SENTINEL) as AgentRecord | undefined;
  }

  private insertNow(input: AgentInput): AgentRecord {
    const now = this.conn.clock.next();
    const id = randomUUID();
    this.conn.db
      .prepare('INSERT INTO agents (id, username, password_hash, permission, tm_create, tm_update, tm_delete) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, input.username, input.passwordHash, input.permission, now, now, LIVE_SENTINEL);
    return this.getNow(id)!;
  }
}
