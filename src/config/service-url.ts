/**
 * URLs of the services outdial connects to (OUTDIAL_DB_URL, OUTDIAL_REDIS_URL) carry passwords.
 * They are checked here without ever repeating the URL in a message, and described for log
 * lines as scheme://user@host:port/path: no password, no query (libpq-style URLs may carry
 * `?password=`).
 */

/** The URL for a log line or an error message: never its password or query. */
export function describeServiceUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(an unparsable URL)';
  }
  const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
  return `${u.protocol}//${user}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/**
 * Problems with a service URL (empty = not configured, fine). The messages name the variable
 * and describe the URL without its password.
 */
export function serviceUrlProblems(variable: string, url: string, protocols: readonly string[], example: string): string[] {
  if (url === '') return [];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // The parser's own error carries the input: it is not repeated here.
    return [`${variable} is not a URL; expected ${example}`];
  }
  if (!protocols.includes(u.protocol)) return [`${variable} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${describeServiceUrl(url)}); expected ${example}`];
  if (u.hostname === '') return [`${variable} names no host (got ${describeServiceUrl(url)}); expected ${example}`];
  return [];
}
