import type { FunctionComponent } from 'preact';
import type { Capabilities } from './api/capabilities.ts';
import { PAGE_REQUIREMENTS, pagesOffered, type PageRequirement } from './page-requirements.ts';
import { AccessKeysPage } from './pages/access-keys-page.tsx';
import { AgentsPage } from './pages/agents-page.tsx';
import { CallsPage } from './pages/calls-page.tsx';
import { DialPlanPage } from './pages/dial-plan-page.tsx';
import { ProviderCallsPage } from './pages/provider-calls-page.tsx';
import { ProvidersPage } from './pages/providers-page.tsx';
import { RoutesPage } from './pages/routes-page.tsx';
import type { Place } from './router.ts';

/** The console's pages (page-requirements.ts lists them, in navigation order) with their views. */
export interface PageDef extends PageRequirement {
  View: FunctionComponent<{ place: Place }>;
}

const VIEWS: Record<string, FunctionComponent<{ place: Place }>> = {
  providers: ProvidersPage,
  routes: RoutesPage,
  dialplan: DialPlanPage,
  providercalls: ProviderCallsPage,
  calls: CallsPage,
  agents: AgentsPage,
  accesskeys: AccessKeysPage,
};

export const PAGES: readonly PageDef[] = PAGE_REQUIREMENTS.map((p) => {
  const View = VIEWS[p.section];
  if (!View) throw new Error(`no view for the console page ${p.section}`);
  return { ...p, View };
});

export function availablePages(capabilities: Capabilities, pages: readonly PageDef[] = PAGES): PageDef[] {
  return pagesOffered(capabilities, pages);
}
