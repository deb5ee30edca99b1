import { useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { createAgent, deleteAgent, getAgent, listAgents, login, setAgentPassword, updateAgent } from '../api/admin-api.ts';
import { fieldOfError } from '../api/field-errors.ts';
import type { Agent } from '../api/types.ts';
import { PERMISSION_FLAGS, hasFlag, hex, permissionNames, withFlag } from '../agents/permission-flags.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Field, fieldIds } from '../components/field.tsx';
import { Empty, ErrorBanner, Loading } from '../components/states.tsx';
import { useConsole } from '../console-context.ts';
import { href, navigate, type Place } from '../router.ts';
import { formatTime } from '../time-format.ts';
import { useFocusOnError } from '../use-focus-on-error.ts';
import { useLoad } from '../use-load.ts';

const LIVE = '9999-01-01T00:00:00.000000Z';

/** #/agents, #/agents/new, #/agents/password (one's own), #/agents/<id> */
export function AgentsPage({ place }: { place: Place }) {
  const id = place.segments[1];
  if (id === 'new') return <AgentEditor />;
  if (id === 'password') return <OwnPassword />;
  if (id !== undefined) return <AgentEditor id={id} />;
  return <AgentList />;
}

function PermissionChips({ permission }: { permission: number }) {
  return (
    <span class="chips" title={hex(permission)}>
      {permissionNames(permission).map((n) => (
        <span class="chip" key={n}>
          {n}
        </span>
      ))}
    </span>
  );
}

function AgentList() {
  const { notify, username } = useConsole();
  const load = useLoad(listAgents, []);
  const [deleting, setDeleting] = useState<Agent | undefined>();
  const [deleteError, setDeleteError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const close = () => {
    setDeleting(undefined);
    setDeleteError(undefined);
  };
  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteAgent(deleting.id);
      notify(`Agent ${deleting.username} deleted`);
      close();
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
        <h1 tabIndex={-1}>Agents</h1>
        <div class="inline">
          <a class="button" href={href('/agents/password')}>
            Change my password
          </a>
          <a class="button primary" href={href('/agents/new')}>
            New agent
          </a>
        </div>
      </div>
      <p class="lead">Who may log in to the API and this console, and with which permission. Only ProjectSuperAdmin agents can use the console's pages.</p>
      {load.state === 'failed' && (
        <ErrorBanner error={load.error} title="The agents could not be loaded">
          <button type="button" onClick={load.reload}>
            Try again
          </button>
        </ErrorBanner>
      )}
      {load.state === 'loading' && load.data === undefined && <Loading what="agents" />}
      {load.data && load.data.items.length === 0 && <Empty title="No agents" />}
      {load.data && load.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-label="Agents" aria-busy={load.state === 'loading'}>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Permission</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {load.data.items.map((a) => (
                <tr key={a.id} data-agent-id={a.id}>
                  <td>
                    <a href={href(`/agents/${a.id}`)} class="strong mono">
                      {a.username}
                    </a>
                    {a.username === username && <span class="muted small"> (you)</span>}
                  </td>
                  <td>
                    {a.name || <span class="muted">—</span>}
                    {a.detail && <div class="muted small">{a.detail}</div>}
                  </td>
                  <td>
                    <PermissionChips permission={a.permission} />
                  </td>
                  <td class="nowrap small">{formatTime(a.tm_create)}</td>
                  <td class="row-actions">
                    <a class="button small" href={href(`/agents/${a.id}`)} aria-label={`Edit agent ${a.username}`}>
                      Edit
                    </a>
                    <button type="button" class="small danger" aria-label={`Delete agent ${a.username}`} onClick={() => setDeleting(a)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={deleting !== undefined} title="Delete this agent?" confirmLabel="Delete agent" busy={busy} onConfirm={confirmDelete} onCancel={close}>
        {deleting && (
          <p>
            <strong class="mono">{deleting.username}</strong> can no longer log in; its tokens and access keys stop working at once.
          </p>
        )}
        {deleteError && <ErrorBanner error={deleteError} title="The agent was not deleted" />}
      </ConfirmDialog>
    </section>
  );
}

function AgentEditor({ id }: { id?: string }) {
  const load = useLoad(() => (id === undefined ? Promise.resolve(undefined) : getAgent(id)), [id]);
  if (load.state === 'loading') return <Loading what="the agent" />;
  if (load.state === 'failed') {
    return (
      <section>
        <h1 tabIndex={-1}>Agent</h1>
        <ErrorBanner error={load.error} title="The agent could not be loaded">
          <a href={href('/agents')}>Back to agents</a>
        </ErrorBanner>
      </section>
    );
  }
  return <AgentForm key={id ?? 'new'} agent={load.data} />;
}

const AGENT_FIELDS = ['username', 'password', 'name', 'detail', 'permission'] as const;
type AgentField = (typeof AGENT_FIELDS)[number];

function AgentForm({ agent }: { agent: Agent | undefined }) {
  const { notify, username: me } = useConsole();
  const [values, setValues] = useState({ username: agent?.username ?? '', password: '', name: agent?.name ?? '', detail: agent?.detail ?? '' });
  const [permission, setPermission] = useState(agent?.permission ?? 0);
  const [errors, setErrors] = useState<Partial<Record<AgentField, string>>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const focusError = useFocusOnError(form);
  const deleted = agent !== undefined && agent.tm_delete !== LIVE;

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setTopError(undefined);
    setBusy(true);
    try {
      const saved = agent
        ? await updateAgent(agent.id, { name: values.name, detail: values.detail, permission })
        : await createAgent({ username: values.username, password: values.password, name: values.name, detail: values.detail, permission });
      notify(`Agent ${saved.username} ${agent ? 'saved' : 'created'}`);
      navigate('/agents');
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, agent ? ['name', 'detail', 'permission'] : [...AGENT_FIELDS]) as AgentField | undefined;
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
      focusError();
    } finally {
      setBusy(false);
    }
  };
  const text = (name: 'username' | 'password' | 'name' | 'detail', label: string, help?: string, extra: Record<string, unknown> = {}) => {
    const ids = fieldIds('agent', name, help !== undefined, errors[name]);
    return (
      <Field ids={ids} name={name} label={label} help={help} error={errors[name]}>
        <input id={ids.id} value={values[name]} aria-invalid={ids.invalid} aria-describedby={ids.describedBy} onInput={(e) => setValues((v) => ({ ...v, [name]: e.currentTarget.value }))} {...extra} />
      </Field>
    );
  };
  const permissionIds = fieldIds('agent', 'permission', true, errors.permission);

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>{agent ? `Edit agent ${agent.username}` : 'New agent'}</h1>
      </div>
      <form ref={form} class="form" onSubmit={submit} noValidate>
        {topError && <ErrorBanner error={topError} title="The agent was not saved" />}
        {deleted && <p class="banner banner-warn">This agent was deleted on {formatTime(agent.tm_delete)}.</p>}
        <fieldset class="form-section" disabled={deleted}>
          <legend>Login</legend>
          {agent ? (
            <div class="field">
              <p class="field-label">Username</p>
              <code>{agent.username}</code> <span class="muted small">(fixed at creation)</span>
            </div>
          ) : (
            <>
              {text('username', 'Username', 'No blanks; unique among live agents', { class: 'mono', autocomplete: 'off', spellcheck: false })}
              {text('password', 'Password', '12 to 256 characters; stored as a hash, never shown again', { type: 'password', autocomplete: 'new-password' })}
            </>
          )}
          {text('name', 'Name', undefined, { autocomplete: 'off' })}
          {text('detail', 'Detail', undefined, { autocomplete: 'off' })}
        </fieldset>
        <fieldset class="form-section" disabled={deleted}>
          <legend>Permission</legend>
          <Field ids={permissionIds} name="permission" label={`Permission flags (${hex(permission)})`} help="A composite flag is on when all of its bits are" error={errors.permission} group>
            <div class="flag-list" role="group" aria-labelledby={`${permissionIds.id}-label`} aria-describedby={permissionIds.describedBy}>
              {PERMISSION_FLAGS.map((flag) => (
                <label class="flag" key={flag.name}>
                  <input type="checkbox" checked={hasFlag(permission, flag)} onChange={(e) => setPermission((p) => withFlag(p, flag, e.currentTarget.checked))} />
                  <span class="mono">{flag.name}</span> <span class="muted small">{hex(flag.bits)}</span>
                  {flag.help && <span class="muted small"> — {flag.help}</span>}
                </label>
              ))}
            </div>
          </Field>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || deleted}>
            {busy ? 'Saving…' : agent ? 'Save agent' : 'Create agent'}
          </button>
          <a class="button" href={href('/agents')}>
            Cancel
          </a>
        </div>
      </form>
      {agent && !deleted && (agent.username === me ? <p class="muted">To change your own password, use <a href={href('/agents/password')}>Change my password</a>.</p> : <SetPassword agent={agent} />)}
    </section>
  );
}

/** A ProjectSuperAdmin sets another agent's password (no old one needed); its tokens stop working. */
function SetPassword({ agent }: { agent: Agent }) {
  const { notify } = useConsole();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const ids = fieldIds('agent-password', 'password', true, error);
  return (
    <form
      class="form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setTopError(undefined);
        setBusy(true);
        try {
          await setAgentPassword(agent.id, { password });
          setPassword('');
          notify(`Password of ${agent.username} set`);
        } catch (err) {
          if (!(err instanceof ApiFailure)) throw err;
          if (fieldOfError(err.body, err.httpStatus, ['password']) === 'password') setError(err.body.message);
          else setTopError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <fieldset class="form-section">
        <legend>Set a new password</legend>
        {topError && <ErrorBanner error={topError} title="The password was not set" />}
        <Field ids={ids} name="password" label="New password" help="Every token the agent holds stops working; its access keys keep working" error={error}>
          <input id={ids.id} type="password" autocomplete="new-password" value={password} aria-invalid={ids.invalid} aria-describedby={ids.describedBy} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Setting…' : 'Set password'}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

/**
 * One's own password, with the current one. The change ends every token issued before, the
 * console's own included, so it logs in again with the new password at once.
 */
function OwnPassword() {
  const { notify, username } = useConsole();
  const agents = useLoad(listAgents, []);
  const me = agents.data?.items.find((a) => a.username === username);
  const [values, setValues] = useState({ old_password: '', password: '' });
  const [errors, setErrors] = useState<Partial<Record<'old_password' | 'password', string>>>({});
  const [topError, setTopError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const focusError = useFocusOnError(form);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!me || username === undefined) return;
    setErrors({});
    setTopError(undefined);
    setBusy(true);
    try {
      await setAgentPassword(me.id, { old_password: values.old_password, password: values.password });
      await login(username, values.password);
      setValues({ old_password: '', password: '' });
      notify('Your password was changed');
      navigate('/agents');
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const field = fieldOfError(err.body, err.httpStatus, ['old_password', 'password']) as 'old_password' | 'password' | undefined;
      if (field !== undefined) setErrors({ [field]: err.body.message });
      else setTopError(err);
      focusError();
    } finally {
      setBusy(false);
    }
  };
  const oldIds = fieldIds('own', 'old_password', false, errors.old_password);
  const newIds = fieldIds('own', 'password', true, errors.password);

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Change my password</h1>
      </div>
      {agents.state === 'failed' && <ErrorBanner error={agents.error} title="Your agent could not be found" />}
      {agents.state === 'loading' && agents.data === undefined && <Loading what="your agent" />}
      {agents.data && !me && (
        <p class="banner banner-warn">The console does not know which agent you logged in as{username ? ` (${username} is not among the live agents)` : ''}; log out and in again.</p>
      )}
      {me && (
        <form ref={form} class="form" onSubmit={submit} noValidate>
          {topError && <ErrorBanner error={topError} title="The password was not changed" />}
          <fieldset class="form-section">
            <legend>
              Agent <span class="mono">{me.username}</span>
            </legend>
            <Field ids={oldIds} name="old_password" label="Current password" error={errors.old_password}>
              <input id={oldIds.id} type="password" autocomplete="current-password" value={values.old_password} aria-invalid={oldIds.invalid} aria-describedby={oldIds.describedBy} onInput={(e) => setValues((v) => ({ ...v, old_password: e.currentTarget.value }))} />
            </Field>
            <Field ids={newIds} name="password" label="New password" help="12 to 256 characters. Every token issued before stops working; this console logs you in again." error={errors.password}>
              <input id={newIds.id} type="password" autocomplete="new-password" value={values.password} aria-invalid={newIds.invalid} aria-describedby={newIds.describedBy} onInput={(e) => setValues((v) => ({ ...v, password: e.currentTarget.value }))} />
            </Field>
          </fieldset>
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Changing…' : 'Change password'}
            </button>
            <a class="button" href={href('/agents')}>
              Cancel
            </a>
          </div>
        </form>
      )}
    </section>
  );
}
