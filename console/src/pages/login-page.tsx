import { useState } from 'preact/hooks';
import { ApiFailure } from '../api/api-client.ts';
import { login } from '../api/admin-api.ts';
import { ErrorBanner } from '../components/states.tsx';

/**
 * The API's own login (POST /auth/login). The answer sets the HttpOnly `token` cookie; the token
 * in the body is dropped at once, so no script-readable copy exists.
 */
export function LoginPage({ notice, onLoggedIn }: { notice: string | undefined; onLoggedIn: (username: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiFailure | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { username: name } = await login(username, password);
      setPassword('');
      onLoggedIn(name);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span class="brand-mark" aria-hidden="true" /> outdial console
        </h1>
        <p class="muted">Log in with an admin agent of this outdial.</p>
        {notice && !error && <p class="banner banner-info">{notice}</p>}
        {error && <ErrorBanner error={error} title={error.reason === 'INVALID_CREDENTIALS' ? 'Wrong username or password' : 'Login failed'} />}
        <div class="field">
          <label class="field-label" for="login-username">
            Username
          </label>
          <input id="login-username" name="username" autocomplete="username" value={username} required autofocus onInput={(e) => setUsername(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label class="field-label" for="login-password">
            Password
          </label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        <button type="submit" class="primary wide-button" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
