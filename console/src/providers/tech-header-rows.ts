/** The tech headers editor edits rows; the API takes an object of header name → value. */

export interface HeaderRow {
  name: string;
  value: string;
}

export function rowsOf(headers: Record<string, string>): HeaderRow[] {
  return Object.entries(headers).map(([name, value]) => ({ name, value }));
}

/**
 * Rows → object. Blank rows are dropped. The same name twice cannot travel in a JSON object (one
 * would silently win), so that is refused here; every other check is the API's.
 */
export function headersOfRows(rows: readonly HeaderRow[]): { headers: Record<string, string> } | { error: string } {
  const headers: Record<string, string> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (name === '' && row.value === '') continue;
    if (Object.hasOwn(headers, name)) return { error: `the header ${name} is given twice` };
    headers[name] = row.value;
  }
  return { headers };
}
