import type { ComponentChildren } from 'preact';
import type { ApiFailure } from '../api/api-client.ts';

export function Loading({ what }: { what: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      {children}
    </div>
  );
}

/** An API error as the API said it: message, reason and request id (for the logs). */
export function ErrorBanner({ error, title, children }: { error: ApiFailure; title?: string; children?: ComponentChildren }) {
  return (
    <div class="banner banner-error" role="alert">
      {title && <p class="banner-title">{title}</p>}
      <p>
        {error.body.message} <code class="reason">{error.body.reason}</code>
      </p>
      {children}
      {error.body.request_id && <p class="muted small">request id {error.body.request_id}</p>}
    </div>
  );
}
