import { useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { deleteRoute, listProviders, listRoutes, replaceRoute } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import { DEFAULT_CUSTOMER_ID, type Provider, type Route } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Field, fieldIds } from '../components/field.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { href, navigate, type Place } from '../router.ts';
import { customerLabel, customersOf, orderByDialPlan, priorityValue } from '../routes/dial-plan-order.ts';
import { formatTime } from '../time-format.ts';
import { useLoad } from '../use-load.ts';
import { useSyncedState } from '../use-synced-state.ts';
import { RouteEditor } from './route-editor.tsx';

/** #/routes?customer=<uuid>, #/routes/new?customer=<uuid>, #/routes/<id> */
export function RoutesPage({ place }: { place: Place }) {
  const id = place.segments[1];
  const customer = (place.params.get('customer') ?? '').trim().toLowerCase() || DEFAULT_CUSTOMER_ID;
  if (id === 'new') return <RouteEditor customer={customer} />;
  if (id !== undefined) return <RouteEditor id={id} customer={customer} />;
  return <RouteList customer={customer} />;
}

interface RouteData {
  routes: Route[];
  /** the default routes a non-default customer falls back to */
  fallback: Route[] | undefined;
  providers: Map<string, Provider>;
  truncated: boolean;
}

async function loadRoutes(customer: string): Promise<RouteData> {
  const isDefault = customer === DEFAULT_CUSTOMER_ID;
  const [own, fallback, providers] = await Promise.all([
    listRoutes(customer),
    isDefault ? Promise.resolve(undefined) : listRoutes(DEFAULT_CUSTOMER_ID),
    listProviders(),
  ]);
  return {
    routes: orderByDialPlan(own.items),
    fallback: fallback ? orderByDialPlan(fallback.items) : undefined,
    providers: new Map(providers.items.map((p) => [p.id, p])),
    truncated: own.truncated || (fallback?.truncated ?? false),
  };
}

function RouteList({ customer }: { customer: string }) {
  const { notify } = useConsole();
  const load = useLoad(() => loadRoutes(customer), [customer]);
  const customers = useLoad(async () => customersOf((await listRoutes()).items), []);
  const [deleting, setDeleting] = useState<Route | undefined>();
  const [deleteError, setDeleteError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const customerError = load.state === 'failed' && fieldOfError(load.error.body, load.error.httpStatus, ['customer_id']) ? load.error.body.message : undefined;

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteRoute(deleting.id);
      notify(`Route ${deleting.target} deleted`);
      setDeleting(undefined);
      setDeleteError(undefined);
      load.reload();
    } catch (err) {
      if (err instanceof ApiFailure) setDeleteError(err);
      else throw err;
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Routes</h1>
        <a class="button primary" href={href('/routes/new', { customer })}>
          Add route
        </a>
      </div>
      <CustomerPicker customer={customer} known={customers.data ?? [DEFAULT_CUSTOMER_ID]} error={customerError} />
      <p class="lead">
        In the order the dial plan tries them: the most specific target first (<code>+1212</code> before <code>+1</code>, <code>all</code> last), then lower priority, then
        the oldest. A number meets only the routes whose target prefixes it; each provider is tried once, unhealthy ones last.{' '}
        {customer !== DEFAULT_CUSTOMER_ID && 'After this customer’s own routes, its calls also try the default routes below.'}
      </p>
      {load.state === 'failed' && !customerError && (
        <ErrorBanner error={load.error} title="The routes could not be loaded">
          <button type="button" onClick={load.reload}>
            Try again
          </button>
        </ErrorBanner>
      )}
      {load.state === 'loading' && load.data === undefined && <Loading what="routes" />}
      {load.data && (
        <>
          <h2 class="section-title">{customerLabel(customer)}</h2>
          {load.data.routes.length === 0 ? (
            <Empty title={customer === DEFAULT_CUSTOMER_ID ? 'No default routes yet' : 'This customer has no routes of its own'}>
              <a class="button primary" href={href('/routes/new', { customer })}>
                Add route
              </a>
            </Empty>
          ) : (
            <RouteTable routes={load.data.routes} providers={load.data.providers} busy={load.state === 'loading'} onChanged={load.reload} onDelete={setDeleting} label={customerLabel(customer)} />
          )}
          {load.data.fallback && (
            <>
              <h2 class="section-title">Then: default routes (every customer)</h2>
              {load.data.fallback.length === 0 ? (
                <Empty title="No default routes" />
              ) : (
                <RouteTable routes={load.data.fallback} providers={load.data.providers} busy={load.state === 'loading'} onChanged={load.reload} onDelete={setDeleting} label="Default routes" startAt={load.data.routes.length} />
              )}
            </>
          )}
          {load.data.truncated && <p class="muted small">The list is cut: only the newest routes were read.</p>}
        </>
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title="Delete this route?"
        confirmLabel="Delete route"
        busy={busy}
        onConfirm={confirmDelete}
        onCancel={() => {
          setDeleting(undefined);
          setDeleteError(undefined);
        }}
      >
        {deleting && (
          <p>
            Calls to <code>{deleting.target}</code> will no longer use <strong>{deleting.name || deleting.id}</strong>.
          </p>
        )}
        {deleteError && <ErrorBanner error={deleteError} title="The route was not deleted" />}
      </ConfirmDialog>
    </section>
  );
}

function CustomerPicker({ customer, known, error }: { customer: string; known: string[]; error: string | undefined }) {
  const [text, setText] = useSyncedState(customer, customer);
  const ids = fieldIds('routes', 'customer_id', true, error);
  return (
    <form
      class="filter"
      onSubmit={(e) => {
        e.preventDefault();
        navigate('/routes', { customer: text.trim() || DEFAULT_CUSTOMER_ID });
      }}
    >
      <Field ids={ids} name="customer_id" label="Customer" error={error} help={`The customer's UUID; ${DEFAULT_CUSTOMER_ID} holds the default routes.`}>
        <div class="inline">
          <input id={ids.id} class="mono wide" list="routes-customers" value={text} aria-describedby={ids.describedBy} aria-invalid={ids.invalid} autocomplete="off" spellcheck={false} onInput={(e) => setText(e.currentTarget.value)} />
          <datalist id="routes-customers">
            {known.map((c) => (
              <option key={c} value={c}>
                {customerLabel(c)}
              </option>
            ))}
          </datalist>
          <button type="submit">Show routes</button>
          {customer !== DEFAULT_CUSTOMER_ID && (
            <a class="button" href={href('/routes')}>
              Default routes
            </a>
          )}
        </div>
      </Field>
    </form>
  );
}

function RouteTable(props: {
  routes: Route[];
  providers: Map<string, Provider>;
  busy: boolean;
  label: string;
  startAt?: number;
  onChanged: () => void;
  onDelete: (route: Route) => void;
}) {
  return (
    <div class="table-wrap">
      <table class="data" aria-label={props.label} aria-busy={props.busy}>
        <thead>
          <tr>
            <th scope="col" class="num">
              Order
            </th>
            <th scope="col">Target</th>
            <th scope="col">Priority</th>
            <th scope="col">Provider</th>
            <th scope="col">Name</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.routes.map((r, i) => {
            const p = props.providers.get(r.provider_id);
            return (
              <tr key={r.id} data-route-id={r.id}>
                <td class="num muted">{(props.startAt ?? 0) + i + 1}</td>
                <td>
                  <code class="strong">{r.target}</code>
                </td>
                <td>
                  <PriorityEditor route={r} onSaved={props.onChanged} />
                </td>
                <td>
                  {p ? (
                    <>
                      <a href={href(`/providers/${p.id}`)}>{p.name || p.hostname}</a> <HealthBadge status={p.health_status} checkedAt={p.health_checked_at} />
                      <div class="muted small mono">{p.hostname}</div>
                    </>
                  ) : (
                    <code class="muted">{r.provider_id}</code>
                  )}
                </td>
                <td>
                  {r.name || <span class="muted">(no name)</span>}
                  {r.detail && <div class="muted small">{r.detail}</div>}
                </td>
                <td class="nowrap small">{formatTime(r.tm_create)}</td>
                <td class="row-actions">
                  <a class="button small" href={href(`/routes/${r.id}`)} aria-label={`Edit route ${r.name || r.target}`}>
                    Edit
                  </a>
                  <button type="button" class="small danger" aria-label={`Delete route ${r.name || r.target}`} onClick={() => props.onDelete(r)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Priority edited in place: Enter or Save sends the route back with the new priority, Escape undoes. */
function PriorityEditor({ route, onSaved }: { route: Route; onSaved: () => void }) {
  const { notify } = useConsole();
  const [text, setText] = useSyncedState(String(route.priority), route.priority);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const dirty = text.trim() !== String(route.priority);
  const errorId = `priority-${route.id}-error`;

  const save = async () => {
    if (!dirty) return;
    setBusy(true);
    setError(undefined);
    const typed = text.trim();
    try {
      await replaceRoute(route.id, {
        name: route.name,
        detail: route.detail,
        provider_id: route.provider_id,
        priority: priorityValue(typed),
        target: route.target,
      });
      notify(`Priority of ${route.name || route.target} set to ${typed}`);
      onSaved();
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      setError(err.body.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="priority-editor">
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input
          class="priority-input"
          inputMode="numeric"
          value={text}
          aria-label={`Priority of route ${route.name || route.target}`}
          aria-invalid={error !== undefined}
          aria-describedby={error ? errorId : undefined}
          disabled={busy}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setText(String(route.priority));
              setError(undefined);
            }
          }}
        />
        {dirty && (
          <button type="submit" class="small primary" disabled={busy}>
            Save
          </button>
        )}
      </form>
      {error && (
        <p class="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
