/**
 * The few statement shapes every PostgreSQL table store uses, built from a row object so that a
 * column added by a migration is one more property where the row is made (docs/cluster.md §8.1).
 * Table and column names come from the code, never from a request; values are always parameters.
 */
import { LIVE_SENTINEL } from '../../routing/model.ts';
import type { PageRequest } from '../page.ts';
import type { Sql } from './postgres-connection.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function checked(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a column or table name: ${name}`);
  return name;
}

/** INSERT … RETURNING *: the row as stored. */
export async function insertRow<R extends object>(sql: Sql, table: string, row: Record<string, unknown>): Promise<R> {
  const columns = Object.keys(row).map(checked);
  const text = `INSERT INTO ${checked(table)} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`;
  return (await sql.query<R>(text, Object.values(row)))[0]!;
}

/** UPDATE … WHERE id = … RETURNING *, for a row the caller has just read in the same transaction. */
export async function updateRow<R extends object>(sql: Sql, table: string, id: string, changes: Record<string, unknown>): Promise<R> {
  const columns = Object.keys(changes).map(checked);
  const text = `UPDATE ${checked(table)} SET ${columns.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE id = $${columns.length + 1} RETURNING *`;
  return (await sql.query<R>(text, [...Object.values(changes), id]))[0]!;
}

/**
 * One page of live rows, newest first, optionally filtered by equal columns (docs/api.md §5):
 * tm_create is unique per table, so "strictly older than the token" neither skips nor repeats.
 */
export function pageQuery(table: string, page: PageRequest, where: Record<string, string | undefined>): { text: string; values: unknown[] } {
  const values: unknown[] = [LIVE_SENTINEL];
  const conditions = ['tm_delete = $1'];
  for (const [column, value] of Object.entries(where)) {
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${checked(column)} = $${values.length}`);
  }
  if (page.pageToken !== '') {
    values.push(page.pageToken);
    conditions.push(`tm_create < $${values.length}`);
  }
  values.push(page.pageSize);
  return { text: `SELECT * FROM ${checked(table)} WHERE ${conditions.join(' AND ')} ORDER BY tm_create DESC LIMIT $${values.length}`, values };
}
