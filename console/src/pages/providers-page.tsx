import { useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { deleteProvider, listProviders } from '../api/admin-api.ts';
import type { Provider } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { HealthBadge, RegistrationBadge } from '../components/health-badge.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { splitCodecs } from '../providers/codec-list.ts';
import { href, type Place } from '../router.ts';
import { formatTime } from '../time-format.ts';
import { useLoad } from '../use-load.ts';
import { ProviderEditor } from './provider-editor.tsx';

/** #/providers, #/providers/new, #/providers/<id> */
export function ProvidersPage({ place }: { place: Place }) {
  const id = place.segments[1];
  if (id === 'new') return <ProviderEditor />;
  if (id !== undefined) return <ProviderEditor id={id} />;
  return <ProviderList />;
}

function Mono({ text }: { text: string }) {
  return text === '' ? <span class="muted">—</span> : <code>{text}</code>;
}

function ProviderList() {
  const { capabilities, notify } = useConsole();
  const load = useLoad(listProviders, []);
  const [deleting, setDeleting] = useState<Provider | undefined>();
  const [deleteError, setDeleteError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  // Registration arrives with credential-based trunks; the column appears when the API reports it.
  const fields = capabilities.responseFields('GET', '/v1.0/providers/{id}');
  const showRegistration = fields?.has('registration_status') ?? false;
  const canTestCall = capabilities.has('POST', '/v1.0/providercalls');

  const closeDialog = () => {
    setDeleting(undefined);
    setDeleteError(undefined);
  };
  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteProvider(deleting.id);
      notify(`Provider “${deleting.name || deleting.hostname}” deleted`);
      closeDialog();
      load.reload();
    } catch (err) {
      if (err instanceof ApiFailure) setDeleteError(err);
      else throw err;
    } finally {
      setBusy(false);
    }
  };
  const inUseRoutes = deleteError?.reason === 'PROVIDER_IN_USE' && Array.isArray(deleteError.body.details?.route_ids) ? (deleteError.body.details.route_ids as string[]) : undefined;

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Providers</h1>
        <a class="button primary" href={href('/providers/new')}>
          New provider
        </a>
      </div>
      <p class="lead">The SIP trunks calls are sent to. Each call tries the providers its routes name, in dial-plan order.</p>
      {load.state === 'failed' && (
        <ErrorBanner error={load.error} title="The providers could not be loaded">
          <button type="button" onClick={load.reload}>
            Try again
          </button>
        </ErrorBanner>
      )}
      {load.state === 'loading' && load.data === undefined && <Loading what="providers" />}
      {load.data && load.data.items.length === 0 && (
        <Empty title="No providers yet">
          <p>
            Create one with its hostname, tech prefix and codecs, then <a href={href('/routes')}>add a route</a> to it.
          </p>
          <a class="button primary" href={href('/providers/new')}>
            New provider
          </a>
        </Empty>
      )}
      {load.data && load.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-busy={load.state === 'loading'}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Hostname</th>
                <th scope="col">Prefix</th>
                <th scope="col">Postfix</th>
                <th scope="col">Codecs</th>
                <th scope="col">Tech headers</th>
                <th scope="col">Health</th>
                {showRegistration && <th scope="col">Registration</th>}
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {load.data.items.map((p) => (
                <tr key={p.id} data-provider-id={p.id}>
                  <td>
                    <a href={href(`/providers/${p.id}`)} class="strong">
                      {p.name || <span class="muted">(no name)</span>}
                    </a>
                    {p.detail && <div class="muted small">{p.detail}</div>}
                  </td>
                  <td>
                    <code>{p.hostname}</code>
                  </td>
                  <td>
                    <Mono text={p.tech_prefix} />
                  </td>
                  <td>
                    <Mono text={p.tech_postfix} />
                  </td>
                  <td>
                    {p.codecs === '' ? (
                      <span class="muted">any</span>
                    ) : (
                      <span class="chips">
                        {splitCodecs(p.codecs).map((c) => (
                          <span class="chip" key={c}>
                            {c}
                          </span>
                        ))}
                      </span>
                    )}
                  </td>
                  <td>
                    {Object.keys(p.tech_headers).length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="plain small">
                        {Object.entries(p.tech_headers).map(([name, value]) => (
                          <li key={name}>
                            <code>
                              {name}: {value}
                            </code>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <HealthBadge status={p.health_status} checkedAt={p.health_checked_at} />
                  </td>
                  {showRegistration && (
                    <td>
                      <RegistrationBadge status={String(p.registration_status ?? 'off')} checkedAt={p.registration_checked_at as string | null | undefined} />
                    </td>
                  )}
                  <td class="nowrap small">{formatTime(p.tm_create)}</td>
                  <td class="row-actions">
                    <a class="button small" href={href(`/providers/${p.id}`)} aria-label={`Edit ${p.name || p.hostname}`}>
                      Edit
                    </a>
                    {canTestCall && (
                      <a class="button small" href={href('/providercalls', { provider: p.id })} aria-label={`Test call through ${p.name || p.hostname}`}>
                        Test call
                      </a>
                    )}
                    <button type="button" class="small danger" aria-label={`Delete ${p.name || p.hostname}`} onClick={() => setDeleting(p)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {load.data.truncated && <p class="muted small">Only the newest {load.data.items.length} providers are shown.</p>}
        </div>
      )}
      <ConfirmDialog open={deleting !== undefined} title="Delete this provider?" confirmLabel="Delete provider" busy={busy} onConfirm={confirmDelete} onCancel={closeDialog}>
        {deleting && (
          <p>
            <strong>{deleting.name || '(no name)'}</strong> <code>{deleting.hostname}</code> will no longer take calls. It stays readable by its id.
          </p>
        )}
        {deleteError && (
          <ErrorBanner error={deleteError} title={inUseRoutes ? 'This provider is still in use' : 'The provider was not deleted'}>
            {inUseRoutes && (
              <>
                <p>Delete these routes first, or point them at another provider:</p>
                <ul class="plain" aria-label="Routes using this provider">
                  {inUseRoutes.map((routeId) => (
                    <li key={routeId}>
                      <a href={href(`/routes/${routeId}`)} class="mono" onClick={closeDialog}>
                        {routeId}
                      </a>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </ErrorBanner>
        )}
      </ConfirmDialog>
    </section>
  );
}
