import type { FunctionComponent } from 'preact';
import type { Capabilities } from './api/capabilities.ts';
import { AccessKeysPage } from './pages/access-keys-page.tsx';
import { AgentsPage } from './pages/agents-page.tsx';
import { CallsPage } from './pages/calls-page.tsx';
import { DialPlanPage } from './pages/dial-plan-page.tsx';
import { ProviderCallsPage } from './pages/provider-calls-page.tsx';
import { ProvidersPage } from './pages/providers-page.tsx';
import { RoutesPage } from './pages/routes-page.tsx';
import type { Place } from './router.ts';

/**
 * The console's pages, in navigation order (docs/console.md, "Pages"). Each appears once the
 * API's OpenAPI document has every operation it `requires` ("Adding a page").
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
  { section: 'providercalls', title: 'Test calls', requires: [['POST', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls/{id}']], View: ProviderCallsPage },
  { section: 'calls', title: 'Calls', requires: [['GET', '/v1.0/calls'], ['GET', '/v1.0/calls/{id}']], View: CallsPage },
  { section: 'agents', title: 'Agents', requires: [['GET', '/v1.0/agents'], ['POST', '/v1.0/agents'], ['PUT', '/v1.0/agents/{id}/password']], View: AgentsPage },
  { section: 'accesskeys', title: 'Access keys', requires: [['GET', '/v1.0/accesskeys'], ['POST', '/v1.0/accesskeys'], ['DELETE', '/v1.0/accesskeys/{id}']], View: AccessKeysPage },
];

export function availablePages(capabilities: Capabilities, pages: readonly PageDef[] = PAGES): PageDef[] {
  return pages.filter((p) => p.requires.every(([method, path]) => capabilities.has(method, path)));
}
