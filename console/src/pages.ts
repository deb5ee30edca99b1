import type { FunctionComponent } from 'preact';
import type { Capabilities } from './api/capabilities.ts';
import { DialPlanPage } from './pages/dial-plan-page.tsx';
import { ProvidersPage } from './pages/providers-page.tsx';
import { RoutesPage } from './pages/routes-page.tsx';
import type { Place } from './router.ts';

/**
 * The console's pages, in navigation order. A page for a later endpoint (provider test calls,
 * recent calls, agents, access keys: docs/console.md, "Adding a page") is one more entry; it
 * appears once the API's OpenAPI document has every operation it `requires`.
 */
export interface PageDef {
  /** the first path segment: #/providers/… */
  section: string;
  title: string;
  requires: ReadonlyArray<readonly [method: string, path: string]>;
  View: FunctionComponent<{ place: Place }>;
}

export const PAGES: readonly PageDef[] = [
  { section: 'providers', title: 'Providers', requires: [['GET', '/v1.0/providers']], View: ProvidersPage },
  { section: 'routes', title: 'Routes', requires: [['GET', '/v1.0/routes']], View: RoutesPage },
  { section: 'dialplan', title: 'Dial plan', requires: [['GET', '/v1.0/dialroutes']], View: DialPlanPage },
];

export function availablePages(capabilities: Capabilities, pages: readonly PageDef[] = PAGES): PageDef[] {
  return pages.filter((p) => p.requires.every(([method, path]) => capabilities.has(method, path)));
}
