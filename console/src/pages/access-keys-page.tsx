import { useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { createAccessKey, deleteAccessKey, listAccessKeys, listAgents } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import type { AccessKey, AccessKeyCreated } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Field, fieldIds } from '../components/field.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import type { Place } from '../router.ts';
import { formatTime } from '../time-format.ts';
import { useLoad } from '../use-load.ts';

const NEVER = '9999-01-01T00:00:00.000000Z';
const DAY = 24 * 3600;
/** Lifetimes offered; the API takes any number of seconds up to ten years. */
const LIFETIMES: ReadonlyArray<{ label: string; seconds: number | undefined }> = [
  { label: 'never expires', seconds: undefined },
  { label: '1 day', seconds: DAY },
  { label: '7 days', seconds: 7 * DAY },
  { label: '30 days', seconds: 30 * DAY },
  { label: '90 days', seconds: 90 * DAY },
  { label: '1 year', seconds: 365 * DAY },
];
const FIELDS = ['name', 'detail', 'expire', 'agent_id'] as const;
type KeyField = (typeof FIELDS)[number];

/** #/accesskeys: the keys, a form to create one (the key is shown once, in memory only), delete. */
export function AccessKeysPage(_props: { place: Place }) {
  const { notify, username } = useConsole();
  const keys = useLoad(listAccessKeys, []);
  const agents = useLoad(listAgents, []);
  const [created, setCreated] = useState<AccessKeyCreated | undefined>();
  const [deleting, setDeleting] = useState<AccessKey | undefined>();
  const [deleteError, setDeleteError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const usernames = new Map((agents.data?.items ?? []).map((a) => [a.id, a.username]));

  const close = () => {
    setDeleting(undefined);
    setDeleteError(undefined);
  };
  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteAccessKey(deleting.id);
      notify(`Access key ${deleting.name || deleting.token_prefix} deleted`);
      if (created?.id === deleting.id) setCreated(undefined);
      close();
      keys.reload();
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
        <h1 tabIndex={-1}>Access keys</h1>
      </div>
      <p class="lead">
        Long-lived credentials for scripts (<code>?accesskey=</code>), each carrying its agent's permission. A key is shown once, when it is created; outdial keeps only its
        hash.
      </p>
      {created && <CreatedKey created={created} onDone={() => setCreated(undefined)} />}
      <NewKeyForm
        agents={agents.data?.items.map((a) => ({ id: a.id, username: a.username })) ?? []}
        me={username}
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      <h2 class="section-title">Keys</h2>
      {keys.state === 'failed' && <ErrorBanner error={keys.error} title="The access keys could not be loaded" />}
      {keys.state === 'loading' && keys.data === undefined && <Loading what="access keys" />}
      {keys.data && keys.data.items.length === 0 && <Empty title="No access keys yet" />}
      {keys.data && keys.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-label="Access keys" aria-busy={keys.state === 'loading'}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key starts with</th>
                <th scope="col">Agent</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id} data-access-key-id={k.id}>
                  <td>
                    {k.name || <span class="muted">(no name)</span>}
                    {k.detail && <div class="muted small">{k.detail}</div>}
                  </td>
                  <td>
                    <code>{k.token_prefix}…</code>
                  </td>
                  <td class="mono">{usernames.get(k.agent_id) ?? k.agent_id}</td>
                  <td class="nowrap small">{k.tm_expire === NEVER ? 'never' : formatTime(k.tm_expire)}</td>
                  <td class="nowrap small">{formatTime(k.tm_create)}</td>
                  <td class="row-actions">
                    <button type="button" class="small danger" aria-label={`Delete access key ${k.name || k.token_prefix}`} onClick={() => setDeleting(k)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={deleting !== undefined} title="Delete this access key?" confirmLabel="Delete key" busy={busy} onConfirm={confirmDelete} onCancel={close}>
        {deleting && (
          <p>
            Scripts using <code>{deleting.token_prefix}…</code> ({deleting.name || 'no name'}) are refused from now on.
          </p>
        )}
        {deleteError && <ErrorBanner error={deleteError} title="The key was not deleted" />}
      </ConfirmDialog>
    </section>
  );
}

/** The one moment the key is visible: kept in this component's state only, gone on navigation. */
function CreatedKey({ created, onDone }: { created: AccessKeyCreated; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  return (
    <div class="banner banner-info created-key" role="status">
      <p class="banner-title">Access key {created.name ? `“${created.name}” ` : ''}created</p>
      <p>Copy it now: it is not shown again, and outdial cannot show it to you later.</p>
      <div class="inline">
        <input ref={input} class="mono wide" readOnly value={created.token} aria-label="The new access key" onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          onClick={async () => {
            input.current?.select();
            try {
              await navigator.clipboard.writeText(created.token);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

function NewKeyForm({ agents, me, onCreated }: { agents: Array<{ id: string; username: string }>; me: string | undefined; onCreated: (k: AccessKeyCreated) => void }) {
  const [values, setValues] = useState({ name: '', detail: '', expire: '', agent_id: '' });
  const [errors, setErrors] = useState<Partial<Record<KeyField, string>>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setTopError(undefined);
    setBusy(true);
    try {
      const k = await createAccessKey({
        name: values.name,
        detail: values.detail,
        ...(values.expire === '' ? {} : { expire: Number(values.expire) }),
        ...(values.agent_id === '' ? {} : { agent_id: values.agent_id }),
      });
      setValues({ name: '', detail: '', expire: '', agent_id: '' });
      onCreated(k);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, [...FIELDS]) as KeyField | undefined;
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
    } finally {
      setBusy(false);
    }
  };
  const ids = (name: KeyField, help: boolean) => fieldIds('accesskey', name, help, errors[name]);
  const nameIds = ids('name', false);
  const detailIds = ids('detail', false);
  const expireIds = ids('expire', false);
  const agentIds = ids('agent_id', true);
  return (
    <form class="form-row" onSubmit={submit} noValidate aria-label="New access key">
      {topError && (
        <div class="form-row-banner">
          <ErrorBanner error={topError} title="The access key was not created" />
        </div>
      )}
      <Field ids={nameIds} name="name" label="Key name" error={errors.name}>
        <input id={nameIds.id} value={values.name} placeholder="ci" autocomplete="off" aria-invalid={nameIds.invalid} aria-describedby={nameIds.describedBy} onInput={(e) => setValues({ ...values, name: e.currentTarget.value })} />
      </Field>
      <Field ids={detailIds} name="detail" label="Key detail" error={errors.detail}>
        <input id={detailIds.id} value={values.detail} autocomplete="off" aria-invalid={detailIds.invalid} aria-describedby={detailIds.describedBy} onInput={(e) => setValues({ ...values, detail: e.currentTarget.value })} />
      </Field>
      <Field ids={expireIds} name="expire" label="Lifetime" error={errors.expire}>
        <select id={expireIds.id} value={values.expire} aria-invalid={expireIds.invalid} aria-describedby={expireIds.describedBy} onChange={(e) => setValues({ ...values, expire: e.currentTarget.value })}>
          {LIFETIMES.map((l) => (
            <option key={l.label} value={l.seconds === undefined ? '' : String(l.seconds)}>
              {l.label}
            </option>
          ))}
        </select>
      </Field>
      <Field ids={agentIds} name="agent_id" label="For agent" help="Whose permission the key carries" error={errors.agent_id}>
        <select id={agentIds.id} value={values.agent_id} aria-invalid={agentIds.invalid} aria-describedby={agentIds.describedBy} onChange={(e) => setValues({ ...values, agent_id: e.currentTarget.value })}>
          <option value="">{me ? `${me} (you)` : 'you'}</option>
          {agents
            .filter((a) => a.username !== me)
            .map((a) => (
              <option key={a.id} value={a.id}>
                {a.username}
              </option>
            ))}
        </select>
      </Field>
      <div class="field field-submit">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create access key'}
        </button>
      </div>
    </form>
  );
}
