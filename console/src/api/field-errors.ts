import type { ApiErrorBody } from './types.ts';

/**
 * Which form field an API error is about, so the console shows it beside that field. Only what
 * the API itself says is used (docs/console.md, "Errors beside their field"): a reason that names one field, or a
 * message that starts with the field (`body.target must match pattern ...`). Anything else
 * belongs at the top of the form.
 */

const REASON_FIELD: Record<string, string> = {
  INVALID_HOSTNAME: 'hostname',
  INVALID_CODECS: 'codecs',
  INVALID_TECH_HEADERS: 'tech_headers',
  INVALID_PASSWORD: 'password',
  INVALID_OLD_PASSWORD: 'old_password',
  AGENT_EXISTS: 'username',
  LAST_PROJECT_SUPER_ADMIN: 'permission',
};

/** `body.hostname is required`, `querystring.customer_id must match ...`, `body.tech_headers.X-A ...` */
const QUALIFIED_FIELD = /^(?:body|querystring)\.([A-Za-z_][A-Za-z0-9_]*)/;
/** `target must be + and 1..15 digits` */
const LEADING_FIELD = /^([a-z_][a-z0-9_]*)\s/;

/**
 * @param fields the fields the form shows; an error naming another field is shown at the top.
 * @param httpStatus PROVIDER_NOT_FOUND names provider_id only as a 400 (a route body naming a
 *   missing provider); as a 404 it is about the object being edited.
 */
export function fieldOfError(error: ApiErrorBody, httpStatus: number, fields: readonly string[]): string | undefined {
  const known = (name: string | undefined) => (name !== undefined && fields.includes(name) ? name : undefined);
  const byReason = REASON_FIELD[error.reason];
  if (byReason !== undefined) return known(byReason);
  if (error.reason === 'PROVIDER_NOT_FOUND') return httpStatus === 400 ? known('provider_id') : undefined;
  if (error.reason !== 'INVALID_ARGUMENT' && error.reason !== 'INVALID_ID') return undefined;
  return known(QUALIFIED_FIELD.exec(error.message)?.[1]) ?? known(LEADING_FIELD.exec(error.message)?.[1]);
}
