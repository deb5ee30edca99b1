import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { getCall, listCalls, listProviders, listRoutes } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import { DEFAULT_CUSTOMER_ID, type CallAttempt, type CallRecord, type Provider } from '../api/types.ts';
import { CALL_FILTER_FIELDS, callFilterOf, filterValuesOf, formatDuration, type CallFilterField, type CallFilterValues } from '../calls/call-filter.ts';
import { Field, fieldIds } from '../components/field.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { href, navigate, type Place } from '../router.ts';
import { customerLabel, customersOf } from '../routes/dial-plan-order.ts';
import { formatTime } from '../time-format.ts';
import { useLoad } from '../use-load.ts';
import { useSyncedState } from '../use-synced-state.ts';

const FORM = 'calls';
/** Rows per page: the newest calls first, more on request (a busy system has many). */
const PAGE_SIZE = 50;

/** #/calls?customer_id=…&destination=…&outcome=…&status=…&since=…&until=…, #/calls/<id> */
export function CallsPage({ place }: { place: Place }) {
  const id = place.segments[1];
  if (id !== undefined) return <CallDetail id={id} />;
  return <CallList values={filterValuesOf(place.params)} />;
}

/** Provider names by id (deleted providers are not listed: their id is shown). */
function useProviderNames() {
  const load = useLoad(listProviders, []);
  return new Map((load.data?.items ?? []).map((p: Provider) => [p.id, p.name || p.hostname]));
}

interface Rows {
  key: string;
  rows: CallRecord[];
  next: string;
  more: boolean;
  state: 'loading' | 'ready' | 'failed';
  error?: ApiFailure;
}

function CallList({ values }: { values: CallFilterValues }) {
  const key = JSON.stringify(values);
  const [form, setForm] = useSyncedState(values, key);
  const names = useProviderNames();
  const customers = useLoad(async () => customersOf((await listRoutes()).items), []);
  const [data, setData] = useState<Rows>({ key, rows: [], next: '', more: false, state: 'loading' });
  const latest = useRef(0);

  const load = (append: boolean) => {
    const round = ++latest.current;
    const token = append ? data.next : '';
    setData((d) => ({ ...d, key, state: 'loading', ...(append ? {} : { rows: d.key === key ? d.rows : [] }) }));
    listCalls(callFilterOf(values), token, PAGE_SIZE).then(
      (page) => {
        if (round !== latest.current) return;
        setData((d) => ({
          key,
          rows: append ? [...d.rows, ...page.result] : page.result,
          next: page.next_page_token,
          more: page.result.length === PAGE_SIZE,
          state: 'ready',
        }));
      },
      (err: unknown) => {
        if (round !== latest.current) return;
        const error = err instanceof ApiFailure ? err : new ApiFailure(0, { status: 'INTERNAL', reason: 'CONSOLE_ERROR', message: String(err), request_id: '' });
        setData((d) => ({ ...d, key, state: 'failed', error }));
      },
    );
  };
  useEffect(() => load(false), [key]);

  const failure = data.state === 'failed' ? data.error : undefined;
  const failedField = failure ? fieldOfError(failure.body, failure.httpStatus, [...CALL_FILTER_FIELDS]) : undefined;
  const errorOf = (name: CallFilterField) => (failedField === name ? failure?.body.message : undefined);
  const set = (name: CallFilterField, value: string) => setForm((f) => ({ ...f, [name]: value }));
  const input = (name: CallFilterField, label: string, help: string, extra: Record<string, unknown> = {}) => {
    const ids = fieldIds(FORM, name, true, errorOf(name));
    return (
      <Field ids={ids} name={name} label={label} help={help} error={errorOf(name)}>
        <input id={ids.id} value={form[name]} aria-describedby={ids.describedBy} aria-invalid={ids.invalid} autocomplete="off" spellcheck={false} onInput={(e) => set(name, e.currentTarget.value)} {...extra} />
      </Field>
    );
  };
  const outcomeIds = fieldIds(FORM, 'outcome', false, errorOf('outcome'));

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Calls</h1>
        <button type="button" onClick={() => load(false)}>
          Refresh
        </button>
      </div>
      <p class="lead">Every call outdial routed, newest first, with each carrier attempt: the Request-URI, the status that ended it and its timing.</p>
      <form
        class="filter form-row"
        aria-label="Filter calls"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/calls', Object.fromEntries(CALL_FILTER_FIELDS.map((f) => [f, form[f].trim()])));
          if (JSON.stringify(Object.fromEntries(CALL_FILTER_FIELDS.map((f) => [f, form[f].trim()]))) === key) load(false);
        }}
      >
        {input('customer_id', 'Customer', 'Empty: every customer', { class: 'mono wide', list: 'calls-customers', placeholder: DEFAULT_CUSTOMER_ID })}
        <datalist id="calls-customers">
          {(customers.data ?? []).map((c) => (
            <option key={c} value={c}>
              {customerLabel(c)}
            </option>
          ))}
        </datalist>
        {input('destination', 'Number starts with', 'e.g. +1555', { class: 'mono narrow', inputMode: 'tel', placeholder: '+1' })}
        <Field ids={outcomeIds} name="outcome" label="Outcome" error={errorOf('outcome')}>
          <select id={outcomeIds.id} value={form.outcome} aria-invalid={outcomeIds.invalid} aria-describedby={outcomeIds.describedBy} onChange={(e) => set('outcome', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="connected">connected</option>
            <option value="failed">failed</option>
          </select>
        </Field>
        {input('status', 'Status', 'final SIP status, e.g. 486', { class: 'mono narrow', inputMode: 'numeric' })}
        {input('since', 'Since (UTC)', 'calls started at or after', { type: 'datetime-local', step: 1 })}
        {input('until', 'Until (UTC)', 'calls started before', { type: 'datetime-local', step: 1 })}
        <div class="field field-submit">
          <button type="submit" class="primary">
            Show calls
          </button>
        </div>
      </form>
      {failure && failedField === undefined && <ErrorBanner error={failure} title="The calls could not be loaded" />}
      {data.state === 'loading' && data.rows.length === 0 && <Loading what="calls" />}
      {data.state === 'ready' && data.rows.length === 0 && <Empty title={CALL_FILTER_FIELDS.some((f) => values[f] !== '') ? 'No call matches these filters' : 'No calls yet'} />}
      {data.rows.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-label="Calls" aria-busy={data.state === 'loading'}>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Destination</th>
                <th scope="col">Caller</th>
                <th scope="col">Customer</th>
                <th scope="col">Outcome</th>
                <th scope="col">Attempts</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((c) => (
                <tr key={c.id} data-call-id={c.id}>
                  <td class="nowrap small">
                    <a href={href(`/calls/${c.id}`)}>{formatTime(c.tm_create)}</a>
                  </td>
                  <td>{c.destination ? <code>{c.destination}</code> : <span class="muted">—</span>}</td>
                  <td>{c.caller ? <code>{c.caller}</code> : <span class="muted">—</span>}</td>
                  <td class="small mono">{c.customer_id === null ? <span class="muted">—</span> : c.customer_id === DEFAULT_CUSTOMER_ID ? 'default' : c.customer_id}</td>
                  <td>
                    <Outcome call={c} names={names} />
                  </td>
                  <td>
                    <AttemptsSummary call={c} names={names} />
                  </td>
                  <td class="nowrap small">{formatDuration(c.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data.more && (
        <div class="actions">
          <button type="button" disabled={data.state === 'loading'} onClick={() => load(true)}>
            {data.state === 'loading' ? 'Loading…' : 'Load older calls'}
          </button>
        </div>
      )}
    </section>
  );
}

function Outcome({ call, names }: { call: CallRecord; names: Map<string, string> }) {
  return (
    <span class="outcome">
      <span class={`badge badge-${call.outcome === 'connected' ? 'healthy' : 'unhealthy'}`}>{call.outcome === 'connected' ? 'Connected' : 'Failed'}</span>{' '}
      {call.status !== null && <code class="status-code">{call.status}</code>}
      {call.reason && <span class="muted small"> {call.reason}</span>}
      {call.provider_id && <div class="small">via {names.get(call.provider_id) ?? <code>{call.provider_id}</code>}</div>}
    </span>
  );
}

/** The attempts of a call, folded: one line each when opened. */
function AttemptsSummary({ call, names }: { call: CallRecord; names: Map<string, string> }) {
  if (call.attempts.length === 0) return <span class="muted small">none</span>;
  return (
    <details class="attempts-fold">
      <summary>
        {call.attempts.length} {call.attempts.length === 1 ? 'attempt' : 'attempts'}: {call.attempts.map((a) => a.status).join(' → ')}
      </summary>
      <ol class="attempt-lines">
        {call.attempts.map((a, i) => (
          <li key={i}>
            <AttemptLine attempt={a} names={names} />
          </li>
        ))}
      </ol>
    </details>
  );
}

function AttemptLine({ attempt, names }: { attempt: CallAttempt; names: Map<string, string> }) {
  return (
    <>
      <code class="status-code">{attempt.status}</code> {attempt.reason && <span>{attempt.reason} </span>}
      <span class="muted small">
        {names.get(attempt.provider_id) ?? attempt.provider_id}, after {formatDuration(attempt.started_ms)}, took {formatDuration(attempt.duration_ms)}
      </span>
      <div>
        <code class="request-uri small">{attempt.request_uri}</code>
      </div>
    </>
  );
}

function CallDetail({ id }: { id: string }) {
  const load = useLoad(() => getCall(id), [id]);
  const names = useProviderNames();
  if (load.state === 'loading') return <Loading what="the call" />;
  if (load.state === 'failed') {
    return (
      <section>
        <h1 tabIndex={-1}>Call</h1>
        <ErrorBanner error={load.error} title="The call could not be loaded">
          <a href={href('/calls')}>Back to calls</a>
        </ErrorBanner>
      </section>
    );
  }
  const c = load.data;
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Call to {c.destination ?? 'an invalid number'}</h1>
        <a class="button" href={href('/calls')}>
          All calls
        </a>
      </div>
      <dl class="facts-list card">
        <dt>Outcome</dt>
        <dd>
          <Outcome call={c} names={names} />
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(c.tm_create)}</dd>
        <dt>Ended</dt>
        <dd>
          {formatTime(c.tm_hangup)} {c.hangup_by && <span class="muted small">(hung up by {c.hangup_by})</span>}
        </dd>
        <dt>Duration</dt>
        <dd>
          {formatDuration(c.duration_ms)}
          {c.talk_ms !== null && <span class="muted small">, talking {formatDuration(c.talk_ms)}</span>}
        </dd>
        <dt>Caller</dt>
        <dd>{c.caller ? <code>{c.caller}</code> : '—'}</dd>
        <dt>Customer</dt>
        <dd>{c.customer_id ? <code>{c.customer_id}</code> : '—'}</dd>
        <dt>Platform</dt>
        <dd>
          <code>{c.source}</code>
        </dd>
        <dt>Call-ID</dt>
        <dd>
          <code>{c.call_id}</code>
        </dd>
      </dl>
      <h2 class="section-title">Attempts</h2>
      {c.attempts.length === 0 ? (
        <Empty title="No carrier was tried">
          <p>The call was answered {c.status ?? ''} by outdial itself{c.reason ? `: ${c.reason}` : ''}.</p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="data" aria-label="Attempts">
            <thead>
              <tr>
                <th scope="col" class="num">
                  #
                </th>
                <th scope="col">Request-URI</th>
                <th scope="col">Provider</th>
                <th scope="col">Status</th>
                <th scope="col">Started after</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {c.attempts.map((a, i) => (
                <tr key={i}>
                  <td class="num muted">{i + 1}</td>
                  <td>
                    <code class="request-uri">{a.request_uri}</code>
                  </td>
                  <td>
                    <a href={href(`/providers/${a.provider_id}`)}>{names.get(a.provider_id) ?? a.provider_id}</a>
                  </td>
                  <td>
                    <code class="status-code">{a.status}</code> {a.reason}
                  </td>
                  <td class="small">{formatDuration(a.started_ms)}</td>
                  <td class="small">{formatDuration(a.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
