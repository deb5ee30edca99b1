import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routing (`/console#/routes?customer=…`): the server serves one page at /console, and
 * every view has an address that can be bookmarked, reloaded and opened in a new tab.
 */

export interface Place {
  /** `/providers/new` → ['providers', 'new'] */
  segments: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Place {
  const text = hash.replace(/^#/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  return {
    segments: path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s)),
    params: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)),
  };
}

/** `href('/routes', { customer })` → `#/routes?customer=…` (empty values left out). */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, v);
  const text = search.toString();
  return `#${path}${text === '' ? '' : `?${text}`}`;
}

export function navigate(path: string, params: Record<string, string | undefined> = {}): void {
  const next = href(path, params);
  if (window.location.hash !== next) window.location.hash = next;
}

export function usePlace(): Place {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const update = () => setHash(window.location.hash);
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return parseHash(hash);
}
