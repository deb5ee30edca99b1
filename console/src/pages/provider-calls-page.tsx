import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { getProviderCall, listProviderCalls, listProviders, startProviderCall } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import type { Provider, ProviderCall } from '../api/types.ts';
import { formatDuration } from '../calls/call-filter.ts';
import { Field, fieldIds } from '../components/field.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { href, navigate, type Place } from '../router.ts';
import { formatTime } from '../time-format.ts';
import { useFocusOnError } from '../use-focus-on-error.ts';
import { useLoad } from '../use-load.ts';

const FORM = 'providercall';
const FIELDS = ['provider_id', 'destination', 'source'] as const;
type TestCallField = (typeof FIELDS)[number];
/** How often a test call still `calling` is asked for again (docs/api.md: POST answers at once). */
export const POLL_MS = 500;

const STATUS_TEXT: Record<string, { text: string; tone: string }> = {
  calling: { text: 'Calling…', tone: 'unknown' },
  answered: { text: 'Answered', tone: 'healthy' },
  failed: { text: 'Failed', tone: 'unhealthy' },
  timeout: { text: 'Timeout', tone: 'warn' },
};

export function TestCallStatus({ call }: { call: ProviderCall }) {
  const s = STATUS_TEXT[call.status] ?? { text: call.status, tone: 'unknown' };
  return (
    <span class="test-call-status" data-status={call.status}>
      <span class={`badge badge-${s.tone}`}>{s.text}</span>
      {call.sip_status !== null && (
        <>
          {' '}
          <code class="status-code">{call.sip_status}</code> {call.sip_reason}
        </>
      )}
    </span>
  );
}

/** #/providercalls?provider=<id>, #/providercalls/<id> */
export function ProviderCallsPage({ place }: { place: Place }) {
  const id = place.segments[1];
  if (id !== undefined) return <TestCallDetail id={id} />;
  return <TestCallStart provider={place.params.get('provider') ?? ''} />;
}

function TestCallStart({ provider }: { provider: string }) {
  const { notify } = useConsole();
  const providers = useLoad(listProviders, []);
  const [values, setValues] = useState<Record<TestCallField, string>>({ provider_id: provider, destination: '', source: '' });
  const [errors, setErrors] = useState<Partial<Record<TestCallField, string>>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const focusError = useFocusOnError(form);
  useLayoutEffect(() => setValues((v) => ({ ...v, provider_id: provider || v.provider_id })), [provider]);
  useEffect(() => {
    const list = providers.data?.items;
    if (list && list.length === 1 && values.provider_id === '') setValues((v) => ({ ...v, provider_id: list[0]!.id }));
  }, [providers.data]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setTopError(undefined);
    setBusy(true);
    try {
      const source = values.source.trim();
      const call = await startProviderCall({ provider_id: values.provider_id, destination: values.destination.trim(), ...(source === '' ? {} : { source }) });
      notify(`Test call to ${call.destination} placed`);
      navigate(`/providercalls/${call.id}`);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, [...FIELDS]) as TestCallField | undefined;
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
      focusError();
    } finally {
      setBusy(false);
    }
  };
  const ids = (name: TestCallField, help: boolean) => fieldIds(FORM, name, help, errors[name]);
  const providerIds = ids('provider_id', true);
  const destinationIds = ids('destination', true);
  const sourceIds = ids('source', true);
  const list = providers.data?.items ?? [];

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Test calls</h1>
      </div>
      <p class="lead">One call through one provider, outside the dial plan: the INVITE a routed call would send (Request-URI, tech headers, codecs). An answered call is hung up at once; no audio flows.</p>
      <form ref={form} class="form-row" onSubmit={submit} noValidate aria-label="New test call">
        {topError && (
          <div class="form-row-banner">
            <ErrorBanner error={topError} title="The test call was not placed" />
          </div>
        )}
        <Field ids={providerIds} name="provider_id" label="Provider" error={errors.provider_id} help="A live provider; no route is needed">
          <select id={providerIds.id} value={values.provider_id} aria-invalid={providerIds.invalid} aria-describedby={providerIds.describedBy} onChange={(e) => setValues({ ...values, provider_id: e.currentTarget.value })}>
            <option value="">Choose a provider…</option>
            {list.map((p: Provider) => (
              <option key={p.id} value={p.id}>
                {p.name || '(no name)'} — {p.hostname}
              </option>
            ))}
            {values.provider_id !== '' && providers.data && !list.some((p) => p.id === values.provider_id) && <option value={values.provider_id}>{values.provider_id}</option>}
          </select>
        </Field>
        <Field ids={destinationIds} name="destination" label="Number" error={errors.destination} help="+ and the E.164 digits">
          <input id={destinationIds.id} class="mono" value={values.destination} placeholder="+15551234567" inputMode="tel" autocomplete="off" aria-invalid={destinationIds.invalid} aria-describedby={destinationIds.describedBy} onInput={(e) => setValues({ ...values, destination: e.currentTarget.value })} />
        </Field>
        <Field ids={sourceIds} name="source" label="Calling number" error={errors.source} help="Optional: the From user part">
          <input id={sourceIds.id} class="mono" value={values.source} placeholder="+15550001111" inputMode="tel" autocomplete="off" aria-invalid={sourceIds.invalid} aria-describedby={sourceIds.describedBy} onInput={(e) => setValues({ ...values, source: e.currentTarget.value })} />
        </Field>
        <div class="field field-submit">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Placing…' : 'Place test call'}
          </button>
        </div>
      </form>
      <RecentTestCalls provider={values.provider_id} providers={list} />
    </section>
  );
}

/** The newest test calls (of the chosen provider), asked for again while one is still calling. */
function RecentTestCalls({ provider, providers }: { provider: string; providers: Provider[] }) {
  const load = useLoad(() => listProviderCalls(provider || undefined), [provider]);
  const calling = load.data?.result.some((c) => c.status === 'calling') ?? false;
  useEffect(() => {
    if (!calling || load.state !== 'ready') return;
    const t = setTimeout(load.reload, POLL_MS);
    return () => clearTimeout(t);
  }, [calling, load.state, load.data]);
  const names = new Map(providers.map((p) => [p.id, p.name || p.hostname]));
  return (
    <>
      <h2 class="section-title">Recent test calls{provider && names.has(provider) ? ` through ${names.get(provider)!}` : ''}</h2>
      {load.state === 'failed' && <ErrorBanner error={load.error} title="The test calls could not be loaded" />}
      {load.data === undefined && load.state === 'loading' && <Loading what="test calls" />}
      {load.data && load.data.result.length === 0 && <Empty title="No test calls yet" />}
      {load.data && load.data.result.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-label="Recent test calls">
            <thead>
              <tr>
                <th scope="col">Placed</th>
                <th scope="col">Provider</th>
                <th scope="col">Number</th>
                <th scope="col">Status</th>
                <th scope="col">Request-URI</th>
              </tr>
            </thead>
            <tbody>
              {load.data.result.map((c) => (
                <tr key={c.id} data-provider-call-id={c.id}>
                  <td class="nowrap small">
                    <a href={href(`/providercalls/${c.id}`)}>{formatTime(c.tm_create)}</a>
                  </td>
                  <td>{names.get(c.provider_id) ?? <code>{c.provider_id}</code>}</td>
                  <td>
                    <code>{c.destination}</code>
                  </td>
                  <td>
                    <TestCallStatus call={c} />
                  </td>
                  <td>
                    <code class="request-uri small">{c.request_uri}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** API times have six decimals; Date.parse reads milliseconds. */
const timeMs = (t: string) => Date.parse(`${t.slice(0, 23)}Z`);

function elapsed(from: string, to: string | null): string {
  if (to === null) return '—';
  return formatDuration(Math.max(0, timeMs(to) - timeMs(from)));
}

/** One test call, asked for every POLL_MS while it is calling. */
function TestCallDetail({ id }: { id: string }) {
  const load = useLoad(() => getProviderCall(id), [id]);
  const providers = useLoad(listProviders, []);
  const calling = load.data?.status === 'calling';
  useEffect(() => {
    if (!calling || load.state !== 'ready') return;
    const t = setTimeout(load.reload, POLL_MS);
    return () => clearTimeout(t);
  }, [calling, load.state, load.data]);

  if (load.data === undefined) {
    if (load.state === 'failed') {
      return (
        <section>
          <h1 tabIndex={-1}>Test call</h1>
          <ErrorBanner error={load.error} title="The test call could not be loaded">
            <a href={href('/providercalls')}>Back to test calls</a>
          </ErrorBanner>
        </section>
      );
    }
    return <Loading what="the test call" />;
  }
  const c = load.data;
  const p = providers.data?.items.find((x) => x.id === c.provider_id);
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Test call to {c.destination}</h1>
        <div class="inline">
          <a class="button primary" href={href('/providercalls', { provider: c.provider_id })}>
            New test call
          </a>
        </div>
      </div>
      {load.state === 'failed' && <ErrorBanner error={load.error} title="The latest status could not be loaded" />}
      <div class="card test-call" aria-live="polite" aria-busy={calling}>
        <p class="test-call-headline">
          <TestCallStatus call={c} /> {calling && <span class="spinner" aria-hidden="true" />}
        </p>
        {c.reason && <p class="test-call-reason">{c.reason}</p>}
        <dl class="facts-list">
          <dt>Request-URI</dt>
          <dd>
            <code class="request-uri" data-testid="test-call-request-uri">
              {c.request_uri}
            </code>
          </dd>
          <dt>Provider</dt>
          <dd>
            <a href={href(`/providers/${c.provider_id}`)}>{p ? p.name || p.hostname : c.provider_id}</a>
          </dd>
          <dt>Calling number</dt>
          <dd>{c.source ? <code>{c.source}</code> : <span class="muted">the SIP stack's default</span>}</dd>
          <dt>Codecs offered</dt>
          <dd>
            {c.codecs.length === 0 ? (
              <span class="muted">the whole test offer (no filter)</span>
            ) : (
              <span class="chips">
                {c.codecs.map((codec) => (
                  <span class="chip" key={codec}>
                    {codec}
                  </span>
                ))}
              </span>
            )}
          </dd>
          <dt>Placed</dt>
          <dd>{formatTime(c.tm_create)}</dd>
          <dt>Ringing after</dt>
          <dd>{elapsed(c.tm_create, c.tm_ringing)}</dd>
          <dt>Answered after</dt>
          <dd>{elapsed(c.tm_create, c.tm_answer)}</dd>
          <dt>Ended after</dt>
          <dd>{elapsed(c.tm_create, c.tm_hangup)}</dd>
        </dl>
      </div>
    </section>
  );
}
