import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { CarrierAdapter } from '../carrier/carrier.ts';
import type { Config } from '../config/config-schema.ts';
import type { Logger } from '../log/logger.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Store } from '../store/store.ts';
import type { TokenSigner } from './auth/token.ts';

/** Everything the admin app needs, built by the composition root (engine.ts) or a test. */
export interface AdminDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: Store;
  tokens: TokenSigner;
  /** seals carrier passwords before they reach the store (docs/api.md §20) */
  secrets: SecretBox;
  /** Carrier adapters for POST /v1.0/providers/setup, keyed by the `carrier` field ("telnyx"). */
  carriers: ReadonlyMap<string, CarrierAdapter>;
  /**
   * More endpoints under /v1.0 behind the same ProjectSuperAdmin check and error envelope (e.g.
   * GET /dialroutes from the routing side). Throw ApiError for client errors.
   */
  extraEndpoints?: FastifyPluginAsyncTypebox[];
  /** Prometheus registry served at GET /metrics (no auth, like /healthz), when given. */
  metrics?: Pick<Registry, 'contentType' | 'metrics'>;
}
