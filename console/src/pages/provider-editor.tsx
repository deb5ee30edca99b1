import { useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { createProvider, getProvider, replaceProvider } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import type { Provider } from '../api/types.ts';
import { CodecsEditor } from '../components/codecs-editor.tsx';
import { Field, fieldIds } from '../components/field.tsx';
import { HeadersEditor } from '../components/headers-editor.tsx';
import { HealthBadge, RegistrationBadge } from '../components/health-badge.tsx';
import { ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { formValuesOf, providerBodyOf, visibleFields, type FormValues, type ProviderFieldDef } from '../providers/provider-form-fields.ts';
import type { HeaderRow } from '../providers/tech-header-rows.ts';
import { href, navigate } from '../router.ts';
import { formatTime } from '../time-format.ts';
import { useFocusOnError } from '../use-focus-on-error.ts';
import { useLoad } from '../use-load.ts';

const LIVE = '9999-01-01T00:00:00.000000Z';
const FORM = 'provider';

const SECTIONS: Array<{ key: ProviderFieldDef['section']; title: string }> = [
  { key: 'general', title: 'General' },
  { key: 'request', title: 'Request-URI and headers' },
  { key: 'trunk', title: 'Credentials, registration and limits' },
  { key: 'media', title: 'Media' },
];

/** Create (no id) or edit a provider. */
export function ProviderEditor({ id }: { id?: string }) {
  const load = useLoad(() => (id === undefined ? Promise.resolve(undefined) : getProvider(id)), [id]);
  if (load.state === 'loading') return <Loading what="the provider" />;
  if (load.state === 'failed') {
    return (
      <section>
        <h1 tabIndex={-1}>Provider</h1>
        <ErrorBanner error={load.error} title="The provider could not be loaded">
          <a href={href('/providers')}>Back to providers</a>
        </ErrorBanner>
      </section>
    );
  }
  return <ProviderForm key={id ?? 'new'} provider={load.data} />;
}

function ProviderForm({ provider }: { provider: Provider | undefined }) {
  const { capabilities, notify } = useConsole();
  const method = provider ? 'PUT' : 'POST';
  const fields = visibleFields(capabilities.bodyFields(method, provider ? '/v1.0/providers/{id}' : '/v1.0/providers'));
  const [values, setValues] = useState<FormValues>(() => formValuesOf(provider, fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const focusError = useFocusOnError(form);
  const deleted = provider !== undefined && provider.tm_delete !== LIVE;

  const set = (name: string, value: FormValues[string]) => {
    setValues((v) => ({ ...v, [name]: value }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setTopError(undefined);
    const built = providerBodyOf(values, fields);
    if ('errors' in built) {
      setErrors(built.errors);
      focusError();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const saved = provider ? await replaceProvider(provider.id, built.body) : await createProvider(built.body);
      notify(`Provider “${saved.name || saved.hostname}” ${provider ? 'saved' : 'created'}`);
      navigate('/providers');
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, fields.map((f) => f.name));
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
      focusError();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>{provider ? `Edit provider ${provider.name || provider.hostname}` : 'New provider'}</h1>
      </div>
      <form ref={form} class="form" onSubmit={submit} noValidate aria-describedby={topError ? 'provider-form-error' : undefined}>
        {topError && (
          <div id="provider-form-error">
            <ErrorBanner error={topError} title="The provider was not saved" />
          </div>
        )}
        {deleted && <p class="banner banner-warn">This provider was deleted on {formatTime(provider.tm_delete)}; it can be read but not changed.</p>}
        {SECTIONS.map((section) => {
          const inSection = fields.filter((f) => f.section === section.key);
          if (inSection.length === 0) return null;
          return (
            <fieldset class="form-section" key={section.key} disabled={deleted}>
              <legend>{section.title}</legend>
              {inSection.map((f) => (
                <ProviderField key={f.name} field={f} value={values[f.name]!} error={errors[f.name]} provider={provider} onChange={(v) => set(f.name, v)} />
              ))}
            </fieldset>
          );
        })}
        {provider && <ProviderFacts provider={provider} />}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || deleted}>
            {busy ? 'Saving…' : provider ? 'Save provider' : 'Create provider'}
          </button>
          <a class="button" href={href('/providers')}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

function ProviderField({ field, value, error, provider, onChange }: {
  field: ProviderFieldDef;
  value: FormValues[string];
  error: string | undefined;
  provider: Provider | undefined;
  onChange: (value: FormValues[string]) => void;
}) {
  const ids = fieldIds(FORM, field.name, field.help !== undefined, error);
  const common = { id: ids.id, name: field.name, 'aria-describedby': ids.describedBy, 'aria-invalid': ids.invalid };
  let control;
  switch (field.kind) {
    case 'codecs':
      control = <CodecsEditor ids={ids} value={value as string[]} onChange={onChange} />;
      break;
    case 'headers':
      control = <HeadersEditor ids={ids} value={value as HeaderRow[]} onChange={onChange} />;
      break;
    case 'boolean':
      control = <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />;
      break;
    case 'choice':
      control = (
        <select {...common} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)}>
          {(field.choices ?? []).map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      );
      break;
    case 'number':
      control = <input {...common} type="text" inputMode="decimal" class="narrow" value={String(value)} onInput={(e) => onChange(e.currentTarget.value)} />;
      break;
    case 'secret': {
      const isSet = field.setFlag !== undefined && provider?.[field.setFlag] === true;
      control = (
        <input
          {...common}
          type="password"
          autocomplete="new-password"
          value={String(value)}
          placeholder={isSet ? 'set — leave empty to keep it' : 'not set'}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      );
      break;
    }
    default:
      control = (
        <input
          {...common}
          type="text"
          class={field.monospace ? 'mono' : undefined}
          value={String(value)}
          placeholder={field.placeholder}
          autocomplete="off"
          spellcheck={!field.monospace}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      );
  }
  return (
    <Field ids={ids} name={field.name} label={field.label} help={field.help} error={error} group={field.kind === 'headers'}>
      {control}
    </Field>
  );
}

/** What the API keeps about a provider besides its fields: id, health, carrier ids, times. */
function ProviderFacts({ provider }: { provider: Provider }) {
  const metadata = Object.entries(provider.metadata);
  return (
    <fieldset class="form-section facts">
      <legend>Status</legend>
      <dl class="facts-list">
        <dt>Id</dt>
        <dd>
          <code>{provider.id}</code>
        </dd>
        <dt>Health</dt>
        <dd>
          <HealthBadge status={provider.health_status} checkedAt={provider.health_checked_at} />{' '}
          <span class="muted small">{provider.health_checked_at ? `checked ${formatTime(provider.health_checked_at)}` : 'not checked yet'}</span>
        </dd>
        {typeof provider.registration_status === 'string' && (
          <>
            <dt>Registration</dt>
            <dd>
              <RegistrationBadge status={provider.registration_status} checkedAt={provider.registration_checked_at as string | null | undefined} />{' '}
              <span class="muted small">
                {typeof provider.registration_checked_at === 'string' ? `last answer ${formatTime(provider.registration_checked_at)}` : provider.registration_status === 'off' ? 'not registering' : 'no answer yet'}
              </span>
            </dd>
          </>
        )}
        {metadata.length > 0 && (
          <>
            <dt>Carrier metadata</dt>
            <dd>
              <ul class="plain small">
                {metadata.map(([k, v]) => (
                  <li key={k}>
                    <code>
                      {k}: {typeof v === 'string' ? v : JSON.stringify(v)}
                    </code>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(provider.tm_create)}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(provider.tm_update)}</dd>
      </dl>
    </fieldset>
  );
}
