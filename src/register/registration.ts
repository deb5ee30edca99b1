/**
 * One provider's registration (docs/routing.md §9) as an explicit state machine, and the timing
 * rules around it. The states are the `registration_status` the API shows:
 *
 *   off         → registering                      (start: the first REGISTER is sent)
 *   registering → registered | failed | off
 *   registered  → registered | failed | off         (a refresh succeeded / failed; stop)
 *   failed      → registered | failed | off         (a retry succeeded / failed; stop)
 *
 * A refresh or a retry does not go back to `registering`: the provider keeps the state its last
 * REGISTER earned until the next one answers, so the dial plan does not reorder it on every
 * refresh.
 */
import { checkedMove, type StateTable } from '../sip/state-table.ts';
import type { RegistrationStatus } from '../routing/model.ts';

export type RegistrationEvent = 'start' | 'success' | 'failure' | 'stop';

const TABLE: StateTable<RegistrationStatus> = {
  off: ['registering'],
  registering: ['registered', 'failed', 'off'],
  registered: ['registered', 'failed', 'off'],
  failed: ['registered', 'failed', 'off'],
};

/** The one transition function: the next state, or a throw for a move the table does not allow. */
export function nextRegistration(state: RegistrationStatus, event: RegistrationEvent): RegistrationStatus {
  switch (event) {
    case 'start':
      return checkedMove(TABLE, state, 'registering', 'registration');
    case 'success':
      // RFC 3261 §10.3 step 8: a 2xx lists the bindings the registrar now holds.
      return checkedMove(TABLE, state, 'registered', 'registration');
    case 'failure':
      return checkedMove(TABLE, state, 'failed', 'registration');
    case 'stop':
      return checkedMove(TABLE, state, 'off', 'registration');
  }
}

/** Registrations shorter than this are refreshed at half their lifetime, longer ones this long before they end. */
const REFRESH_MARGIN_S = 60;

/**
 * When to send the refresh of a binding granted for `grantedSeconds` (RFC 3261 §10.2.4: before it
 * expires). Half the time for short bindings, a minute early for long ones: 3600 s → 3540 s,
 * 60 s → 30 s, 20 s → 10 s.
 */
export function refreshDelayMs(grantedSeconds: number): number {
  const s = grantedSeconds <= 2 * REFRESH_MARGIN_S ? grantedSeconds / 2 : grantedSeconds - REFRESH_MARGIN_S;
  return Math.max(1000, Math.round(s * 1000));
}

/**
 * How long to wait before retrying after `failures` failures in a row: `retryMs`, doubled for
 * each further failure, at most `retryMaxMs`; a registrar's Retry-After (RFC 3261 §20.33) is
 * honoured when it asks for longer, within the same cap.
 */
export function retryDelayMs(failures: number, retryMs: number, retryMaxMs: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(retryMaxMs, retryMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
  if (retryAfterSeconds === undefined) return backoff;
  return Math.min(retryMaxMs, Math.max(backoff, retryAfterSeconds * 1000));
}

/** Splits a Contact header value into its contacts (commas inside <> or quotes do not split). */
function splitContacts(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((c) => c !== '');
}

function contactUri(contact: string): string {
  const lt = contact.indexOf('<');
  const gt = contact.indexOf('>', lt + 1);
  const uri = lt >= 0 && gt > lt ? contact.slice(lt + 1, gt) : contact.split(';')[0]!;
  // compare without URI parameters, host case-insensitive
  return uri.split(';')[0]!.trim().toLowerCase();
}

function expiresParam(contact: string): number | undefined {
  const gt = contact.lastIndexOf('>');
  const params = gt >= 0 ? contact.slice(gt + 1) : contact.slice(contact.indexOf(';'));
  const m = /;\s*expires\s*=\s*"?([0-9]+)"?/i.exec(params);
  return m ? Number(m[1]) : undefined;
}

/**
 * The lifetime the registrar granted (RFC 3261 §10.2.4): the `expires` parameter of our own
 * Contact in the 2xx, else the Expires header, else the lifetime we asked for. With several
 * bindings listed (other devices of the same account), ours is the one with our Contact URI.
 */
export function grantedSeconds(contactHeader: string | undefined, expiresHeader: string | undefined, ourContact: string | undefined, requested: number): number {
  const contacts = contactHeader ? splitContacts(contactHeader) : [];
  const ours = ourContact !== undefined ? contacts.find((c) => contactUri(c) === contactUri(ourContact)) : undefined;
  const mine = ours ?? (contacts.length === 1 ? contacts[0] : undefined);
  const fromParam = mine !== undefined ? expiresParam(mine) : undefined;
  if (fromParam !== undefined) return fromParam;
  if (expiresHeader !== undefined && /^\s*[0-9]+\s*$/.test(expiresHeader)) return Number(expiresHeader);
  return requested;
}
