import { listRoutes, previewDialRoutes } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import { DEFAULT_CUSTOMER_ID, type DialRoute } from '../api/types.ts';
import { Field, fieldIds } from '../components/field.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { href, navigate, type Place } from '../router.ts';
import { customerLabel, customersOf } from '../routes/dial-plan-order.ts';
import { useLoad } from '../use-load.ts';
import { useSyncedState } from '../use-synced-state.ts';

const FORM = 'dialplan';

/**
 * #/dialplan?target=+15551234567&customer=<uuid>: the attempts a call would make right now, as
 * GET /v1.0/dialroutes computes them from the engine's own dial plan (nothing is recomputed here).
 */
export function DialPlanPage({ place }: { place: Place }) {
  const target = place.params.get('target') ?? '';
  const customer = place.params.get('customer') ?? '';
  const [form, setForm] = useSyncedState({ target, customer }, `${target}\n${customer}`);
  const customers = useLoad(async () => customersOf((await listRoutes()).items), []);
  const load = useLoad(() => (target === '' ? Promise.resolve(undefined) : previewDialRoutes(target, customer || undefined)), [target, customer]);

  const failure = load.state === 'failed' ? load.error : undefined;
  const failedField = failure ? fieldOfError(failure.body, failure.httpStatus, ['target', 'customer_id']) : undefined;
  const errorOf = (name: string) => (failedField === name ? failure?.body.message : undefined);
  const targetIds = fieldIds(FORM, 'target', true, errorOf('target'));
  const customerIds = fieldIds(FORM, 'customer_id', true, errorOf('customer_id'));

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Dial plan</h1>
      </div>
      <p class="lead">What a call to a number would do right now: every attempt in order, with the exact Request-URI, the headers added and the codec filter.</p>
      <form
        class="filter form-row"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/dialplan', { target: form.target.trim(), customer: form.customer.trim() });
          if (form.target.trim() === target && form.customer.trim() === customer) load.reload();
        }}
      >
        <Field ids={targetIds} name="target" label="Number" error={errorOf('target')} help="+ and the E.164 digits, e.g. +15551234567">
          <input id={targetIds.id} class="mono" value={form.target} placeholder="+15551234567" inputMode="tel" aria-describedby={targetIds.describedBy} aria-invalid={targetIds.invalid} autocomplete="off" onInput={(e) => setForm({ ...form, target: e.currentTarget.value })} />
        </Field>
        <Field ids={customerIds} name="customer_id" label="Customer" error={errorOf('customer_id')} help="Empty: a call without a customer header (default routes only)">
          <input id={customerIds.id} class="mono wide" list="dialplan-customers" value={form.customer} placeholder={DEFAULT_CUSTOMER_ID} aria-describedby={customerIds.describedBy} aria-invalid={customerIds.invalid} autocomplete="off" spellcheck={false} onInput={(e) => setForm({ ...form, customer: e.currentTarget.value })} />
          <datalist id="dialplan-customers">
            {(customers.data ?? []).map((c) => (
              <option key={c} value={c}>
                {customerLabel(c)}
              </option>
            ))}
          </datalist>
        </Field>
        <div class="field field-submit">
          <button type="submit" class="primary">
            Preview
          </button>
        </div>
      </form>
      {failure && failedField === undefined && <ErrorBanner error={failure} title="The preview failed" />}
      {target === '' && <Empty title="Enter a number to see its attempts" />}
      {target !== '' && load.state === 'loading' && <Loading what="the dial plan" />}
      {load.state === 'ready' && load.data && <Attempts target={target} customer={customer} attempts={load.data.result} />}
    </section>
  );
}

function Attempts({ target, customer, attempts }: { target: string; customer: string; attempts: DialRoute[] }) {
  if (attempts.length === 0) {
    return (
      <Empty title={`No route for ${target}`}>
        <p>A call to this number {customer ? 'from this customer ' : ''}would be refused with 404 Not Found.</p>
        <a class="button" href={href('/routes/new', { customer: customer || undefined })}>
          Add route
        </a>
      </Empty>
    );
  }
  const own = customer.toLowerCase() || DEFAULT_CUSTOMER_ID;
  return (
    <ol class="attempts" aria-label={`Attempts for ${target}`}>
      {attempts.map((a, i) => {
        const headers = Object.entries(a.headers);
        return (
          <li class="attempt" key={a.route.id} data-attempt={i + 1}>
            <div class="attempt-head">
              <span class="attempt-rank">{i + 1}</span>
              <code class="request-uri" data-testid="request-uri">
                {a.request_uri}
              </code>
            </div>
            <dl class="attempt-facts">
              <dt>Provider</dt>
              <dd>
                <a href={href(`/providers/${a.provider.id}`)}>{a.provider.name || a.provider.hostname}</a> <HealthBadge status={a.provider.health_status} checkedAt={a.provider.health_checked_at} />
              </dd>
              <dt>Route</dt>
              <dd>
                <a href={href(`/routes/${a.route.id}`)}>{a.route.name || a.route.id}</a>: target <code>{a.route.target}</code>, priority {a.route.priority}
                {a.route.customer_id.toLowerCase() !== own && <span class="muted"> (a default route)</span>}
              </dd>
              <dt>Headers added</dt>
              <dd>
                {headers.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul class="plain">
                    {headers.map(([name, value]) => (
                      <li key={name}>
                        <code>
                          {name}: {value}
                        </code>
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
              <dt>Codecs</dt>
              <dd>
                {a.codecs.length === 0 ? (
                  <span class="muted">any: the offer is passed unchanged</span>
                ) : (
                  <span class="chips">
                    {a.codecs.map((c) => (
                      <span class="chip" key={c}>
                        {c}
                      </span>
                    ))}
                    <span class="muted small">(and telephone-event)</span>
                  </span>
                )}
              </dd>
            </dl>
          </li>
        );
      })}
    </ol>
  );
}
