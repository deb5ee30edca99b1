import { useLayoutEffect, useRef, useState } from 'preact/hooks';

/**
 * A form field's state that starts from `source` and starts over from it whenever `key` changes
 * (the page's address, a value saved elsewhere), but not right after the first render. Preact runs
 * a `useEffect` after the next frame (or 100 ms later when no frame comes): one that set the state
 * from the address then would wipe what was typed in the meantime, as
 * `useEffect(() => setForm(source), [key])` did when a page was typed into at once. The start-over
 * runs as a layout effect, right after the render that saw the new key.
 */
export function useSyncedState<T>(source: T, key: string | number): [T, (next: T | ((prev: T) => T)) => void] {
  const [state, setState] = useState(source);
  const synced = useRef(key);
  useLayoutEffect(() => {
    if (synced.current === key) return;
    synced.current = key;
    setState(source);
  }, [key]);
  return [state, setState];
}
