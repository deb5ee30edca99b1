import type { Provider } from '../api/types.ts';
import { joinCodecs, splitCodecs } from './codec-list.ts';
import { headersOfRows, rowsOf, type HeaderRow } from './tech-header-rows.ts';

/**
 * The provider form, as data: one entry per writable provider field, in form order. A field a
 * later API adds (docs/console.md, "Adding a provider field") is one more entry; the form shows an
 * entry only when the API's provider body declares that field (capabilities.ts).
 */

export type FieldKind =
  | 'text'
  | 'codecs'
  | 'headers'
  /** a checkbox */
  | 'boolean'
  /** one of `choices` */
  | 'choice'
  /** a number input; sent as a number */
  | 'number'
  /** write-only: never shown, sent only when typed; `setFlag` names the read-only "is set" field */
  | 'secret';

export interface ProviderFieldDef {
  name: string;
  label: string;
  kind: FieldKind;
  help?: string;
  placeholder?: string;
  monospace?: boolean;
  choices?: readonly string[];
  setFlag?: string;
  /** the value of a new provider's form */
  initial?: FormValue;
  /** the form section it belongs to */
  section: 'general' | 'request' | 'trunk' | 'media';
}

export type FormValue = string | boolean | string[] | HeaderRow[];
export type FormValues = Record<string, FormValue>;

export const PROVIDER_FIELDS: readonly ProviderFieldDef[] = [
  { name: 'name', label: 'Name', kind: 'text', section: 'general', placeholder: 'Carrier A' },
  { name: 'detail', label: 'Detail', kind: 'text', section: 'general', placeholder: 'what it is for' },
  {
    name: 'hostname',
    label: 'Hostname',
    kind: 'text',
    section: 'request',
    monospace: true,
    placeholder: 'sip.carrier.example:5060',
    help: 'DNS name, IPv4 address or [IPv6] address, with an optional :port. The Request-URI is sip:<prefix><number><postfix>@<hostname>.',
  },
  { name: 'tech_prefix', label: 'Tech prefix', kind: 'text', section: 'request', monospace: true, help: 'Put before the number in the Request-URI (at most 32 characters).' },
  { name: 'tech_postfix', label: 'Tech postfix', kind: 'text', section: 'request', monospace: true, help: 'Put after the number (# and other reserved characters are escaped on the wire).' },
  { name: 'tech_headers', label: 'Tech headers', kind: 'headers', section: 'request', help: 'SIP headers added to every INVITE to this provider. Via, From, To, Contact and the other dialog headers are reserved.' },
  {
    name: 'transport',
    label: 'Transport',
    kind: 'choice',
    choices: ['udp', 'tcp', 'tls'],
    section: 'request',
    help: 'How calls reach the carrier; tcp and tls add ;transport= to the Request-URI.',
  },
  {
    name: 'leading_plus',
    label: 'Send the number with its +',
    kind: 'boolean',
    initial: true,
    section: 'request',
    help: 'Unchecked: +15551234567 is sent as 15551234567 (Request-URI, To, and a +E.164 caller in From and P-Asserted-Identity).',
  },
  {
    name: 'auth_username',
    label: 'Auth user name',
    kind: 'text',
    section: 'trunk',
    monospace: true,
    help: 'The trunk\'s digest user name, sent when the carrier challenges (401/407). Empty it to remove the credentials.',
  },
  {
    name: 'auth_password',
    label: 'Auth password',
    kind: 'secret',
    setFlag: 'auth_password_set',
    section: 'trunk',
    help: 'Write-only: never shown again. Leave empty to keep the stored password.',
  },
  { name: 'register', label: 'Register', kind: 'boolean', section: 'trunk', help: 'REGISTER sip:<user name>@<hostname> with these credentials and keep it refreshed.' },
  { name: 'register_expires', label: 'Registration lifetime (s)', kind: 'number', section: 'trunk', placeholder: '3600', help: '60 to 86400 seconds; empty: 3600.' },
  { name: 'max_calls', label: 'Max concurrent calls', kind: 'number', section: 'trunk', placeholder: '0', help: '0 or empty: unlimited. Attempts over the limit go to the next route.' },
  { name: 'max_cps', label: 'Max calls per second', kind: 'number', section: 'trunk', placeholder: '0', help: '0 or empty: unlimited; may be fractional (0.5 = one call every 2 s).' },
  { name: 'codecs', label: 'Codecs', kind: 'codecs', section: 'media', help: 'The SDP offer is filtered to these codecs, in this order (telephone-event is always kept). None: the offer is passed unchanged.' },
];

/** The fields this server's API accepts (all of today's when the OpenAPI document is unknown). */
export function visibleFields(bodyFields: ReadonlySet<string> | undefined, fields = PROVIDER_FIELDS): ProviderFieldDef[] {
  return fields.filter((f) => bodyFields === undefined || bodyFields.has(f.name));
}

function initialOf(field: ProviderFieldDef): FormValue {
  if (field.initial !== undefined) return field.initial;
  switch (field.kind) {
    case 'boolean':
      return false;
    case 'codecs':
      return [];
    case 'headers':
      return [];
    case 'choice':
      return field.choices?.[0] ?? '';
    default:
      return '';
  }
}

/** The form's starting values: a new provider's defaults, or the provider being edited. */
export function formValuesOf(provider: Provider | undefined, fields: readonly ProviderFieldDef[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const current = provider?.[field.name];
    if (provider === undefined || field.kind === 'secret' || current === undefined || current === null) {
      values[field.name] = initialOf(field);
    } else if (field.kind === 'codecs') {
      values[field.name] = splitCodecs(String(current));
    } else if (field.kind === 'headers') {
      values[field.name] = rowsOf(current as Record<string, string>);
    } else if (field.kind === 'boolean') {
      values[field.name] = current === true;
    } else {
      values[field.name] = String(current);
    }
  }
  return values;
}

/**
 * Form values → the POST/PUT body. Values are sent as typed: the API validates them and its
 * errors are shown beside the field. Only what JSON cannot carry is refused here.
 */
export function providerBodyOf(values: FormValues, fields: readonly ProviderFieldDef[]): { body: Record<string, unknown> } | { errors: Record<string, string> } {
  const body: Record<string, unknown> = { type: 'sip' };
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name];
    switch (field.kind) {
      case 'codecs':
        body[field.name] = joinCodecs(value as string[]);
        break;
      case 'headers': {
        const r = headersOfRows(value as HeaderRow[]);
        if ('error' in r) errors[field.name] = r.error;
        else body[field.name] = r.headers;
        break;
      }
      case 'boolean':
        body[field.name] = value === true;
        break;
      case 'number': {
        const text = String(value).trim();
        // "" leaves the API's default; text that is no number goes as typed, for the API to name.
        if (text !== '') body[field.name] = Number.isFinite(Number(text)) ? Number(text) : text;
        break;
      }
      case 'secret':
        if (value !== '') body[field.name] = value;
        break;
      default:
        body[field.name] = value;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { body };
}
