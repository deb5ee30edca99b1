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

interface Result<T> {
  /** the deps the data belongs to: a reload keeps showing the old data, other deps do not */
  key: string;
  state: 'loading' | 'ready' | 'failed';
  data?: T;
  error?: ApiFailure;
}

/**
 * Runs `load` when `deps` (strings, numbers) change, and on reload; an answer that arrives after
 * a newer request is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: ReadonlyArray<string | number | undefined>): Load<T> {
  const key = JSON.stringify(deps);
  const [result, setResult] = useState<Result<T>>({ key, state: 'loading' });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  useEffect(() => {
    const id = ++latest.current;
    setResult((r) => ({ key, state: 'loading', data: r.key === key ? r.data : undefined }));
    load().then(
      (data) => id === latest.current && setResult({ key, state: 'ready', data }),
      (err: unknown) => id === latest.current && setResult((r) => ({ key, state: 'failed', data: r.key === key ? r.data : undefined, error: failureOf(err) })),
    );
    // `load` is a new closure every render; `key` says when what it loads changed.
  }, [key, round]);
  const data = result.key === key ? result.data : undefined;
  if (result.key !== key || result.state === 'loading') return { state: 'loading', data, reload };
  if (result.state === 'failed') return { state: 'failed', error: result.error!, data, reload };
  return { state: 'ready', data: data as T, reload };
}
