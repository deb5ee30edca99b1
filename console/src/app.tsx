import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiFailure, apiCall, setUnauthenticatedHandler } from './api/api-client.ts';
import { logout, openApiDocument } from './api/admin-api.ts';
import { capabilitiesOf, type Capabilities } from './api/capabilities.ts';
import { ErrorBanner, Loading } from './components/states.tsx';
import { ConsoleContextValue, type ConsoleContext } from './console-context.ts';
import { availablePages } from './pages.ts';
import { LoginPage } from './pages/login-page.tsx';
import { href, usePlace } from './router.ts';

type Session =
  | { state: 'starting' }
  | { state: 'broken'; error: ApiFailure }
  | { state: 'anonymous'; notice?: string }
  | { state: 'signed-in'; username: string | undefined };

/** Not a secret: only the name shown beside "Log out" after a reload (the token is in the HttpOnly cookie). */
const USERNAME_KEY = 'outdial-console-username';

async function sessionIsValid(): Promise<boolean> {
  try {
    await apiCall('GET', '/v1.0/providers?page_size=1');
    return true;
  } catch (err) {
    if (err instanceof ApiFailure && err.httpStatus === 401) return false;
    // logged in without ProjectSuperAdmin: the pages show the API's PERMISSION_DENIED, Log out works
    if (err instanceof ApiFailure && err.httpStatus === 403) return true;
    throw err;
  }
}

export function App() {
  const [session, setSession] = useState<Session>({ state: 'starting' });
  const [capabilities, setCapabilities] = useState<Capabilities | undefined>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      const caps = capabilitiesOf(await openApiDocument());
      const valid = await sessionIsValid();
      if (!live) return;
      setCapabilities(caps);
      setSession(valid ? { state: 'signed-in', username: sessionStorage.getItem(USERNAME_KEY) ?? undefined } : { state: 'anonymous' });
    })().catch((err: unknown) => {
      if (live) setSession({ state: 'broken', error: err instanceof ApiFailure ? err : new ApiFailure(0, { status: 'INTERNAL', reason: 'CONSOLE_ERROR', message: String(err), request_id: '' }) });
    });
    return () => {
      live = false;
    };
  }, [attempt]);

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession((s) => (s.state === 'signed-in' ? { state: 'anonymous', notice: 'Your session has ended; please log in again.' } : s)));
    return () => setUnauthenticatedHandler(undefined);
  }, []);

  if (session.state === 'starting') {
    return (
      <main class="login">
        <Loading what="the console" />
      </main>
    );
  }
  if (session.state === 'broken' || capabilities === undefined) {
    return (
      <main class="login">
        <div class="login-card">
          <h1>outdial console</h1>
          {session.state === 'broken' && (
            <ErrorBanner error={session.error} title="The console could not start">
              <button type="button" onClick={() => setAttempt((n) => n + 1)}>
                Try again
              </button>
            </ErrorBanner>
          )}
        </div>
      </main>
    );
  }
  if (session.state === 'anonymous') {
    return (
      <LoginPage
        notice={session.notice}
        onLoggedIn={(username) => {
          sessionStorage.setItem(USERNAME_KEY, username);
          setSession({ state: 'signed-in', username });
        }}
      />
    );
  }
  return (
    <Shell
      capabilities={capabilities}
      username={session.username}
      onLoggedOut={() => {
        sessionStorage.removeItem(USERNAME_KEY);
        setSession({ state: 'anonymous', notice: 'You are logged out.' });
      }}
    />
  );
}

function Shell({ capabilities, username, onLoggedOut }: { capabilities: Capabilities; username: string | undefined; onLoggedOut: () => void }) {
  const place = usePlace();
  const pages = useMemo(() => availablePages(capabilities), [capabilities]);
  const [toasts, setToasts] = useState<Array<{ id: number; text: string }>>([]);
  const [logoutError, setLogoutError] = useState<ApiFailure | undefined>();
  const nextToast = useRef(0);
  const notify = useCallback((text: string) => {
    const id = ++nextToast.current;
    setToasts((t) => [...t.slice(-2), { id, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000);
  }, []);
  const context = useMemo<ConsoleContext>(() => ({ capabilities, notify, username }), [capabilities, notify, username]);

  const section = place.segments[0];
  const page = pages.find((p) => p.section === section);
  const path = place.segments.join('/');
  useEffect(() => {
    if (section === undefined && pages[0]) window.location.replace(href(`/${pages[0].section}`));
  }, [section, pages]);
  // A new view: move focus to its heading, so keyboard and screen-reader users start there.
  useLayoutEffect(() => {
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [path]);
  useEffect(() => {
    document.title = page ? `${page.title} · outdial console` : 'outdial console';
  }, [page]);

  const doLogout = async () => {
    try {
      await logout();
      onLoggedOut();
    } catch (err) {
      if (err instanceof ApiFailure) setLogoutError(err);
      else throw err;
    }
  };

  return (
    <ConsoleContextValue.Provider value={context}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href(`/${pages[0]?.section ?? ''}`)}>
          <span class="brand-mark" aria-hidden="true" /> outdial
        </a>
        <nav aria-label="Console">
          <ul>
            {pages.map((p) => (
              <li key={p.section}>
                <a href={href(`/${p.section}`)} aria-current={p === page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          {username && <span class="muted">{username}</span>}
          <button type="button" class="small" onClick={doLogout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        {logoutError && <ErrorBanner error={logoutError} title="Logging out failed" />}
        {page ? (
          <page.View place={place} />
        ) : section === undefined ? null : (
          <section>
            <h1 tabIndex={-1}>Not found</h1>
            <p>
              There is no page <code>#/{path}</code>. <a href={href(`/${pages[0]?.section ?? ''}`)}>Go to {pages[0]?.title ?? 'the console'}</a>.
            </p>
          </section>
        )}
      </main>
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <p class="toast" key={t.id}>
            {t.text}
          </p>
        ))}
      </div>
    </ConsoleContextValue.Provider>
  );
}
