import { useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { createRoute, getRoute, listProviders, replaceRoute } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import { DEFAULT_CUSTOMER_ID, type Provider, type Route } from '../api/types.ts';
import { Field, fieldIds } from '../components/field.tsx';
import { ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { href, navigate } from '../router.ts';
import { customerLabel, priorityValue } from '../routes/dial-plan-order.ts';
import { useFocusOnError } from '../use-focus-on-error.ts';
import { useLoad } from '../use-load.ts';

const LIVE = '9999-01-01T00:00:00.000000Z';
const FORM = 'route';
const FIELDS = ['customer_id', 'name', 'detail', 'provider_id', 'priority', 'target'] as const;
type RouteField = (typeof FIELDS)[number];

/** Create (no id, for `customer`) or edit a route. */
export function RouteEditor({ id, customer }: { id?: string; customer: string }) {
  const load = useLoad(async () => {
    const [route, providers] = await Promise.all([id === undefined ? Promise.resolve(undefined) : getRoute(id), listProviders()]);
    return { route, providers: providers.items };
  }, [id]);
  if (load.state === 'loading') return <Loading what="the route" />;
  if (load.state === 'failed') {
    return (
      <section>
        <h1 tabIndex={-1}>Route</h1>
        <ErrorBanner error={load.error} title="The route could not be loaded">
          <a href={href('/routes', { customer })}>Back to routes</a>
        </ErrorBanner>
      </section>
    );
  }
  return <RouteForm key={id ?? 'new'} route={load.data.route} providers={load.data.providers} customer={customer} />;
}

function RouteForm({ route, providers, customer }: { route: Route | undefined; providers: Provider[]; customer: string }) {
  const { notify } = useConsole();
  const [values, setValues] = useState<Record<RouteField, string>>(() => ({
    customer_id: route?.customer_id ?? customer,
    name: route?.name ?? '',
    detail: route?.detail ?? '',
    provider_id: route?.provider_id ?? (providers.length === 1 ? providers[0]!.id : ''),
    priority: String(route?.priority ?? 1),
    target: route?.target ?? '',
  }));
  const [errors, setErrors] = useState<Partial<Record<RouteField, string>>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const focusError = useFocusOnError(form);
  const deleted = route !== undefined && route.tm_delete !== LIVE;
  // The route's provider may have been deleted meanwhile (only possible for a deleted route).
  const choices = route && !providers.some((p) => p.id === route.provider_id) ? [...providers, { id: route.provider_id, name: '(deleted provider)', hostname: route.provider_id } as Provider] : providers;


  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setTopError(undefined);
    setBusy(true);
    const body = {
      name: values.name,
      detail: values.detail,
      provider_id: values.provider_id,
      priority: priorityValue(values.priority),
      target: values.target.trim(),
    };
    const customerId = values.customer_id.trim();
    try {
      const saved = route ? await replaceRoute(route.id, body) : await createRoute({ customer_id: customerId, ...body });
      notify(`Route ${saved.target} ${route ? 'saved' : 'added'}`);
      navigate('/routes', { customer: saved.customer_id });
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, route ? FIELDS.filter((f) => f !== 'customer_id') : FIELDS) as RouteField | undefined;
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
      focusError();
    } finally {
      setBusy(false);
    }
  };

  const text = (name: RouteField, label: string, opts: { help?: string; mono?: boolean; placeholder?: string; narrow?: boolean } = {}) => {
    const ids = fieldIds(FORM, name, opts.help !== undefined, errors[name]);
    return (
      <Field ids={ids} name={name} label={label} help={opts.help} error={errors[name]}>
        <input
          id={ids.id}
          name={name}
          class={[opts.mono ? 'mono' : '', opts.narrow ? 'narrow' : ''].join(' ').trim() || undefined}
          value={values[name]}
          placeholder={opts.placeholder}
          aria-describedby={ids.describedBy}
          aria-invalid={ids.invalid}
          autocomplete="off"
          spellcheck={!opts.mono}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setValues((old) => ({ ...old, [name]: v }));
          }}
        />
      </Field>
    );
  };
  const providerIds = fieldIds(FORM, 'provider_id', providers.length === 0, errors.provider_id);

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>{route ? `Edit route ${route.name || route.target}` : 'Add route'}</h1>
      </div>
      <form ref={form} class="form" onSubmit={submit} noValidate>
        {topError && <ErrorBanner error={topError} title="The route was not saved" />}
        {deleted && <p class="banner banner-warn">This route was deleted; it can be read but not changed.</p>}
        <fieldset class="form-section" disabled={deleted}>
          <legend>Route</legend>
          {route ? (
            <div class="field" data-field="customer_id">
              <p class="field-label">Customer</p>
              <p>
                <code>{route.customer_id}</code> {route.customer_id === DEFAULT_CUSTOMER_ID && <span class="muted">({customerLabel(route.customer_id)})</span>}
              </p>
            </div>
          ) : (
            text('customer_id', 'Customer', { mono: true, help: `The customer's UUID (sent in the platform's customer header); ${DEFAULT_CUSTOMER_ID} makes a default route for every customer.` })
          )}
          {text('target', 'Target', { mono: true, narrow: true, placeholder: '+1', help: 'all, or an E.164 prefix: + and 1 to 15 digits (+1, +44, +1212). The longest matching prefix is tried first.' })}
          <Field ids={providerIds} name="provider_id" label="Provider" error={errors.provider_id} help={providers.length === 0 ? 'There is no provider yet.' : undefined}>
            <select
              id={providerIds.id}
              name="provider_id"
              value={values.provider_id}
              aria-describedby={providerIds.describedBy}
              aria-invalid={providerIds.invalid}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setValues((old) => ({ ...old, provider_id: v }));
              }}
            >
              <option value="">Choose a provider…</option>
              {choices.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name ? `${p.name} — ${p.hostname}` : p.hostname}
                </option>
              ))}
            </select>
            {providers.length === 0 && (
              <p>
                <a href={href('/providers/new')}>Create a provider</a> first.
              </p>
            )}
          </Field>
          {text('priority', 'Priority', { narrow: true, help: 'Among routes with the same target, the lower priority is tried first.' })}
          {text('name', 'Name', { placeholder: 'us' })}
          {text('detail', 'Detail')}
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || deleted}>
            {busy ? 'Saving…' : route ? 'Save route' : 'Add route'}
          </button>
          <a class="button" href={href('/routes', { customer: route?.customer_id ?? customer })}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
