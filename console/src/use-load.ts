import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api/api-client.ts';

export type Load<T> =
  | { state: 'loading'; data: T | undefined; reload: () => void }
  | { state: 'ready'; data: T; reload: () => void }
  | { state: 'failed'; error: ApiFailure; data: T | undefined; reload: () => void };

function failureOf(err: unknown): ApiFailure {
  if (err instanceof ApiFailure) return err;
  return new ApiFailure(0, { status: 'INTERNAL', reason: 'CONSOLE_ERROR', message: err instanceof Error ? err.message : String(err), request_id: '' });
}

/** Runs `load` when `deps` change (and on reload); an answer that arrives after a newer request is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Load<T> {
  const [result, setResult] = useState<{ state: 'loading' | 'ready' | 'failed'; data?: T; error?: ApiFailure }>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  useEffect(() => {
    const id = ++latest.current;
    setResult((r) => ({ state: 'loading', data: r.data }));
    load().then(
      (data) => id === latest.current && setResult({ state: 'ready', data }),
      (err: unknown) => id === latest.current && setResult((r) => ({ state: 'failed', data: r.data, error: failureOf(err) })),
    );
    // `deps` are the caller's: reload when they change.
  }, [...deps, round]);
  if (result.state === 'ready') return { state: 'ready', data: result.data as T, reload };
  if (result.state === 'failed') return { state: 'failed', error: result.error!, data: result.data, reload };
  return { state: 'loading', data: result.data, reload };
}
