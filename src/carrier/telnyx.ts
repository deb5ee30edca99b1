import { randomInt } from 'node:crypto';
import { getCountries } from 'libphonenumber-js';
import type { Logger } from '../log/logger.ts';
import {
  CarrierError,
  type CarrierAdapter,
  type CarrierErrorKind,
  type CarrierLeftover,
  type CarrierSetupInput,
  type CarrierSetupResult,
} from './carrier.ts';

/** Where Telnyx expects outbound SIP from an FQDN connection to be sent. */
export const TELNYX_SIP_HOSTNAME = 'sip.telnyx.com';

export interface TelnyxAdapterOptions {
  /** Telnyx v2 base URL, e.g. https://api.telnyx.com/v2 (a trailing slash is tolerated). */
  apiUrl: string;
  /** Bound on every single HTTP call, setup and rollback alike. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** ISO 3166 alpha-2 codes for the outbound voice profile; default: every libphonenumber region. */
  whitelistedDestinations?: string[];
  /** Bound on the whole rollback (all DELETEs together); default 2 × timeoutMs. */
  rollbackTimeoutMs?: number;
}

/** One entry of a Telnyx v2 `{"errors": [...]}` body. */
export interface TelnyxApiError {
  code?: string;
  title?: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
}

type Step = 'whoami' | 'profile' | 'connection' | 'fqdn';

const STEP_LABEL: Record<Step, string> = {
  whoami: 'validating the API key (GET /whoami)',
  profile: 'creating the outbound voice profile (POST /outbound_voice_profiles)',
  connection: 'creating the FQDN connection (POST /fqdn_connections)',
  fqdn: 'registering the public SIP address (POST /fqdns)',
};

type CallOutcome =
  | { kind: 'ok'; status: number; data: Record<string, unknown> | undefined }
  | { kind: 'http'; status: number; errors: TelnyxApiError[] }
  | { kind: 'transport'; reason: 'timeout' | 'network'; message: string };

interface CreatedResource {
  resource: 'outbound_voice_profile' | 'fqdn_connection' | 'fqdn';
  id: string;
  path: string;
}

/**
 * How many times the outbound voice profile is posted while Telnyx keeps refusing countries of
 * its whitelist (each answer may name only some of them).
 */
export const MAX_PROFILE_ATTEMPTS = 10;

export function createTelnyxAdapter(opts: TelnyxAdapterOptions): CarrierAdapter {
  const apiUrl = opts.apiUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? globalThis.fetch;
  const rollbackTimeoutMs = opts.rollbackTimeoutMs ?? opts.timeoutMs * 2;
  const defaultDestinations = opts.whitelistedDestinations ?? getCountries().map(String);

  async function call(apiKey: string, method: string, path: string, body?: unknown, outer?: AbortSignal): Promise<CallOutcome> {
    const perCall = AbortSignal.timeout(opts.timeoutMs);
    const signal = outer ? AbortSignal.any([perCall, outer]) : perCall;
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await doFetch(`${apiUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      const text = await res.text();
      const parsed = parseJson(text);
      if (res.ok) {
        const data = isRecord(parsed) && isRecord(parsed.data) ? parsed.data : undefined;
        return { kind: 'ok', status: res.status, data };
      }
      const errors = isRecord(parsed) && Array.isArray(parsed.errors) ? parsed.errors.filter(isRecord).map(toApiError) : [];
      return { kind: 'http', status: res.status, errors };
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name === 'TimeoutError' || name === 'AbortError' || signal.aborted) {
        return { kind: 'transport', reason: 'timeout', message: `no answer within ${opts.timeoutMs} ms` };
      }
      // undici puts the useful part (ECONNREFUSED, ENOTFOUND...) on err.cause; neither carries headers.
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
      return { kind: 'transport', reason: 'network', message: code ?? (cause instanceof Error ? cause.message : 'network error') };
    }
  }

  async function setup(input: CarrierSetupInput, parentLog: Logger): Promise<CarrierSetupResult> {
    const log = parentLog.child({ carrier: 'telnyx', provider_name: input.name });
    // Text that came back from Telnyx is scrubbed of these before it reaches a log line or an error.
    const secrets = [input.apiKey];
    const fail = (step: Step, outcome: Exclude<CallOutcome, { kind: 'ok' }>): CarrierError => {
      const error = toCarrierError(step, outcome, opts.timeoutMs, secrets);
      log.warn({ step, kind: error.kind, ...describeOutcome(outcome, secrets) }, 'telnyx call failed');
      return error;
    };
    const requireId = (step: Step, outcome: Extract<CallOutcome, { kind: 'ok' }>): string => {
      const id = outcome.data?.id;
      if (typeof id === 'string' && id !== '') return id;
      if (typeof id === 'number') return String(id);
      log.error({ step, status: outcome.status }, 'telnyx answer without id');
      throw new CarrierError('request_failed', `Telnyx answered ${STEP_LABEL[step]} without an id (HTTP ${outcome.status})`);
    };

    const whoami = await call(input.apiKey, 'GET', '/whoami');
    if (whoami.kind !== 'ok') throw fail('whoami', whoami);

    const created: CreatedResource[] = [];
    try {
      let destinations = [...defaultDestinations];
      let profileOutcome: CallOutcome;
      for (let attempt = 1; ; attempt++) {
        profileOutcome = await call(input.apiKey, 'POST', '/outbound_voice_profiles', profileBody(input.name, destinations));
        if (profileOutcome.kind !== 'http' || profileOutcome.status !== 422 || attempt >= MAX_PROFILE_ATTEMPTS) break;
        // Drop what this answer refuses and ask again, until Telnyx accepts or names nothing new.
        const refused = refusedDestinations(profileOutcome.errors, destinations);
        if (refused.length === 0 || refused.length >= destinations.length) break;
        log.warn({ refused, attempt }, 'telnyx refused destinations');
        const drop = new Set(refused);
        destinations = destinations.filter((c) => !drop.has(c));
      }
      if (profileOutcome.kind !== 'ok') throw fail('profile', profileOutcome);
      const profileId = requireId('profile', profileOutcome);
      created.push({ resource: 'outbound_voice_profile', id: profileId, path: `/outbound_voice_profiles/${encodeURIComponent(profileId)}` });
      log.info({ outbound_voice_profile_id: profileId, destinations: destinations.length }, 'telnyx profile created');

      const password = generatePassword();
      secrets.push(password);
      const connectionOutcome = await call(input.apiKey, 'POST', '/fqdn_connections', {
        connection_name: input.name,
        user_name: generateUserName(),
        password,
        inbound: { ani_number_format: '+E.164', dnis_number_format: '+e164' },
        outbound: { outbound_voice_profile_id: profileId },
      });
      if (connectionOutcome.kind !== 'ok') throw fail('connection', connectionOutcome);
      const connectionId = requireId('connection', connectionOutcome);
      created.push({ resource: 'fqdn_connection', id: connectionId, path: `/fqdn_connections/${encodeURIComponent(connectionId)}` });
      log.info({ connection_id: connectionId }, 'telnyx connection created');

      const fqdnOutcome = await call(input.apiKey, 'POST', '/fqdns', {
        connection_id: connectionId,
        fqdn: input.publicSipAddress.host,
        port: input.publicSipAddress.port,
        // Telnyx: with an explicit port the record type must be 'a' ('srv' carries its own port).
        dns_record_type: 'a',
      });
      if (fqdnOutcome.kind !== 'ok') throw fail('fqdn', fqdnOutcome);
      const fqdnId = requireId('fqdn', fqdnOutcome);
      created.push({ resource: 'fqdn', id: fqdnId, path: `/fqdns/${encodeURIComponent(fqdnId)}` });
      log.info({ fqdn_id: fqdnId, fqdn: input.publicSipAddress.host, port: input.publicSipAddress.port }, 'telnyx fqdn created');

      const { host, port } = input.publicSipAddress;
      return {
        hostname: TELNYX_SIP_HOSTNAME,
        // VoIPBIN's keys, so scripts reading a setup provider's metadata work on both.
        metadata: {
          carrier: 'telnyx',
          telnyx_profile_id: profileId,
          telnyx_connection_id: connectionId,
          telnyx_fqdn_id: fqdnId,
          telnyx_fqdn: `${host}:${port}`,
        },
        rollback: (rollbackLog) => rollback(input.apiKey, created, rollbackLog.child({ carrier: 'telnyx' }), secrets),
      };
    } catch (err) {
      await rollback(input.apiKey, created, log, secrets);
      throw err;
    }
  }

  /**
   * Best effort, newest first: a connection cannot go while an fqdn uses it, nor a profile while
   * a connection does. Returns what could not be deleted (to be removed by hand).
   */
  async function rollback(apiKey: string, created: CreatedResource[], log: Logger, secrets: string[]): Promise<CarrierLeftover[]> {
    const left: CarrierLeftover[] = [];
    if (created.length === 0) return left;
    const budget = AbortSignal.timeout(rollbackTimeoutMs);
    for (const item of [...created].reverse()) {
      if (budget.aborted) {
        log.error({ resource: item.resource, id: item.id }, 'telnyx rollback skipped');
        left.push({ resource: item.resource, id: item.id });
        continue;
      }
      const outcome = await call(apiKey, 'DELETE', item.path, undefined, budget);
      if (outcome.kind === 'ok' || (outcome.kind === 'http' && outcome.status === 404)) {
        log.info({ resource: item.resource, id: item.id }, 'telnyx rollback deleted');
      } else {
        log.error({ resource: item.resource, id: item.id, ...describeOutcome(outcome, secrets) }, 'telnyx rollback failed');
        left.push({ resource: item.resource, id: item.id });
      }
    }
    return left;
  }

  return { carrier: 'telnyx', setup };
}

function profileBody(name: string, destinations: string[]): Record<string, unknown> {
  return { name, traffic_type: 'conversational', service_plan: 'global', whitelisted_destinations: destinations };
}

/**
 * Country codes a 422 from POST /outbound_voice_profiles says cannot be whitelisted. Only errors
 * about whitelisted_destinations count; a code is taken from the JSON pointer index
 * (`/whitelisted_destinations/3`), from the list after "following countries:" (the wording
 * VoIPBIN handles), or from two-letter words in a detail about destinations, and kept only if
 * it was in the request, so a stray "ID" in prose cannot remove a country we never sent.
 */
export function refusedDestinations(errors: readonly TelnyxApiError[], requested: readonly string[]): string[] {
  const asked = new Set(requested);
  const found = new Set<string>();
  const codesIn = (text: string) => {
    for (const word of text.match(/\b[A-Z]{2}\b/g) ?? []) if (asked.has(word)) found.add(word);
  };
  for (const e of errors) {
    const pointer = e.source?.pointer ?? e.source?.parameter ?? '';
    const text = `${e.title ?? ''} ${e.detail ?? ''}`;
    const list = /following countries:\s*([^.;\n]*)/i.exec(text)?.[1];
    if (list !== undefined) {
      codesIn(list);
      continue;
    }
    if (!pointer.includes('whitelisted_destinations') && !/whitelist|destination/i.test(text)) continue;
    const index = /whitelisted_destinations\/(\d+)/.exec(pointer)?.[1];
    const byIndex = index === undefined ? undefined : requested[Number(index)];
    if (byIndex !== undefined) found.add(byIndex);
    codesIn(e.detail ?? '');
  }
  return [...found];
}

function toCarrierError(step: Step, outcome: Exclude<CallOutcome, { kind: 'ok' }>, timeoutMs: number, secrets: string[]): CarrierError {
  const label = STEP_LABEL[step];
  if (outcome.kind === 'transport') {
    const message = outcome.reason === 'timeout' ? `Telnyx did not answer ${label} within ${timeoutMs} ms` : `Telnyx unreachable while ${label}: ${outcome.message}`;
    return new CarrierError('unavailable', scrub(message, secrets));
  }
  const summary = outcome.errors.map((e) => [e.title, e.detail].filter(Boolean).join(': ')).filter(Boolean).join('; ');
  const message = `Telnyx answered HTTP ${outcome.status} while ${label}${summary ? `: ${summary}` : ''}`;
  return new CarrierError(kindForStatus(outcome.status), scrub(message, secrets));
}

/**
 * 401/403 at any step mean the key is wrong or lacks a permission setup needs; 5xx and 429 are
 * Telnyx's trouble and worth retrying later; anything else is a request Telnyx will not accept.
 */
function kindForStatus(status: number): CarrierErrorKind {
  if (status === 401 || status === 403) return 'credentials_rejected';
  if (status >= 500 || status === 429) return 'unavailable';
  return 'request_failed';
}

function describeOutcome(outcome: Exclude<CallOutcome, { kind: 'ok' }>, secrets: string[]): Record<string, unknown> {
  if (outcome.kind === 'transport') return { reason: outcome.reason, cause: scrub(outcome.message, secrets) };
  return {
    status: outcome.status,
    errors: outcome.errors.map((e) => ({
      code: e.code,
      title: e.title === undefined ? undefined : scrub(e.title, secrets),
      detail: e.detail === undefined ? undefined : scrub(e.detail, secrets),
      pointer: e.source?.pointer,
    })),
  };
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** 32 alphanumerics (~190 bits) with every character class, which credential policies ask for. */
export function generatePassword(): string {
  while (true) {
    const p = randomString(ALNUM, 32);
    if (/[A-Z]/.test(p) && /[a-z]/.test(p) && /[0-9]/.test(p)) return p;
  }
}

/** Telnyx SIP user names are alphanumeric and unique across Telnyx, hence the random tail. */
export function generateUserName(): string {
  return `outdial${randomString('abcdefghijklmnopqrstuvwxyz0123456789', 12)}`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toApiError(e: Record<string, unknown>): TelnyxApiError {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  const source = isRecord(e.source) ? { pointer: str(e.source.pointer), parameter: str(e.source.parameter) } : undefined;
  return { code: str(e.code), title: str(e.title), detail: str(e.detail), source };
}
