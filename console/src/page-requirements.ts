import type { Capabilities } from './api/capabilities.ts';

/**
 * The console's pages, in navigation order, with the API operations each needs (docs/console.md,
 * "Adding a page"). A page appears once the API's OpenAPI document has every operation it
 * `requires`. Kept apart from the views (pages.ts) so it can be checked without a browser.
 */
export interface PageRequirement {
  /** the first path segment: #/providers/… */
  section: string;
  title: string;
  requires: ReadonlyArray<readonly [method: string, path: string]>;
}

export const PAGE_REQUIREMENTS: readonly PageRequirement[] = [
  { section: 'providers', title: 'Providers', requires: [['GET', '/v1.0/providers']] },
  { section: 'routes', title: 'Routes', requires: [['GET', '/v1.0/routes']] },
  { section: 'dialplan', title: 'Dial plan', requires: [['GET', '/v1.0/dialroutes']] },
  { section: 'providercalls', title: 'Test calls', requires: [['POST', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls/{id}']] },
  { section: 'calls', title: 'Calls', requires: [['GET', '/v1.0/calls'], ['GET', '/v1.0/calls/{id}']] },
  { section: 'agents', title: 'Agents', requires: [['GET', '/v1.0/agents'], ['POST', '/v1.0/agents'], ['PUT', '/v1.0/agents/{id}/password']] },
  { section: 'accesskeys', title: 'Access keys', requires: [['GET', '/v1.0/accesskeys'], ['POST', '/v1.0/accesskeys'], ['DELETE', '/v1.0/accesskeys/{id}']] },
];

export function pagesOffered<P extends PageRequirement>(capabilities: Capabilities, pages: readonly P[]): P[] {
  return pages.filter((p) => p.requires.every(([method, path]) => capabilities.has(method, path)));
}
