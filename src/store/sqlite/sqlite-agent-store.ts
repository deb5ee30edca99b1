import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import { Permission, type AgentInput, type AgentRecord, type AgentStore, type AgentUpdate } from '../store-types.ts';
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

  list(page: PageRequest): Promise<Page<AgentRecord>> {
    return this.conn.read(() => {
      const rows = this.conn.db
        .prepare('SELECT * FROM agents WHERE tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
        .all(LIVE_SENTINEL, tokenBound(page.pageToken), page.pageSize) as AgentRecord[];
      return pageOf(rows);
    });
  }

  create(input: AgentInput): Promise<AgentRecord> {
    return this.conn.write(() => this.insertNow(input));
  }

  createIfNoAgents(input: AgentInput): Promise<AgentRecord | undefined> {
    return this.conn.write(() => (this.countNow() === 0 ? this.insertNow(input) : undefined));
  }

  update(id: string, update: AgentUpdate): Promise<AgentRecord> {
    return this.conn.write(() => {
      const current = this.requireLive(id);
      if (isSuperAdmin(current.permission) && !isSuperAdmin(update.permission)) this.requireAnotherSuperAdmin(id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db
        .prepare('UPDATE agents SET name = ?, detail = ?, permission = ?, tm_update = ? WHERE id = ?')
        .run(update.name, update.detail, update.permission, now, id);
      return this.getNow(id)!;
    });
  }

  setPassword(id: string, passwordHash: string): Promise<AgentRecord> {
    return this.conn.write(() => {
      const current = this.requireLive(id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db
        .prepare('UPDATE agents SET password_hash = ?, password_version = password_version + 1, tm_update = ? WHERE id = ?')
        .run(passwordHash, now, id);
      return this.getNow(id)!;
    });
  }

  softDelete(id: string): Promise<AgentRecord> {
    return this.conn.write(() => {
      const current = this.requireLive(id);
      if (isSuperAdmin(current.permission)) this.requireAnotherSuperAdmin(id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db.prepare('UPDATE agents SET tm_update = ?, tm_delete = ? WHERE id = ?').run(now, now, id);
      // An agent's access keys go with it: a key must never outlive the permission it lends.
      this.conn.db.prepare('UPDATE access_keys SET tm_update = ?, tm_delete = ? WHERE agent_id = ? AND tm_delete = ?').run(now, now, id, LIVE_SENTINEL);
      return this.getNow(id)!;
    });
  }

  private countNow(): number {
    return (this.conn.db.prepare('SELECT count(*) AS n FROM agents').get() as { n: number }).n;
  }

  private getNow(id: string): AgentRecord | undefined {
    return this.conn.db.prepare('SELECT * FROM agents WHERE id = ?').get(id) as AgentRecord | undefined;
  }

  private requireLive(id: string): AgentRecord {
    const current = this.getNow(id);
    if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('AGENT_NOT_FOUND');
    return current;
  }

  /** Inside the write transaction, so two admins demoting each other cannot both succeed. */
  private requireAnotherSuperAdmin(id: string): void {
    const others = (
      this.conn.db
        .prepare('SELECT count(*) AS n FROM agents WHERE tm_delete = ? AND (permission & ?) != 0 AND id != ?')
        .get(LIVE_SENTINEL, Permission.ProjectSuperAdmin, id) as { n: number }
    ).n;
    if (others === 0) throw new ApiError('LAST_PROJECT_SUPER_ADMIN');
  }

  private insertNow(input: AgentInput): AgentRecord {
    const db = this.conn.db;
    const taken = db.prepare('SELECT 1 FROM agents WHERE username = ? AND tm_delete = ?').get(input.username, LIVE_SENTINEL);
    if (taken) throw new ApiError('AGENT_EXISTS', `a live agent already has the username ${JSON.stringify(input.username)}`);
    const floor = (db.prepare('SELECT max(tm_create) AS m FROM agents').get() as { m: string | null }).m;
    const now = this.conn.clock.next(floor);
    const id = randomUUID();
    db.prepare(
      `INSERT INTO agents (id, username, name, detail, password_hash, password_version, permission, tm_create, tm_update, tm_delete)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
    ).run(id, input.username, input.name ?? '', input.detail ?? '', input.passwordHash, input.permission, now, now, LIVE_SENTINEL);
    return this.getNow(id)!;
  }
}

function isSuperAdmin(permission: number): boolean {
  return (permission & Permission.ProjectSuperAdmin) !== 0;
}
