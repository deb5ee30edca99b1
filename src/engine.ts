import type { FastifyInstance } from 'fastify';
import { buildAdminApp, listenAdmin } from './admin/admin-app.ts';
import { generatePassword, hashPassword } from './admin/auth/password.ts';
import { createTokenSigner } from './admin/auth/token.ts';
import type { CarrierAdapter } from './carrier/carrier.ts';
import { createTelnyxAdapter } from './carrier/telnyx.ts';
import type { Config } from './config/config-schema.ts';
import type { Logger } from './log/logger.ts';
import { Permission } from './store/agent-store.ts';
import type { MicrosSource } from './store/clock.ts';
import { openStore, type Store } from './store/store.ts';

export interface EngineOptions {
  /** Where the generated first-start password is printed (default: stdout). */
  print?: (text: string) => void;
  /** Carrier adapters for provider setup (default: Telnyx from config.telnyx). */
  carriers?: ReadonlyMap<string, CarrierAdapter>;
  /** Test hook: row timestamps from this clock. */
  micros?: MicrosSource;
}

export interface Engine {
  /** The admin API's bound address (useful with port 0). */
  readonly http: { host: string; port: number };
  readonly store: Store;
  readonly admin: FastifyInstance;
  close(): Promise<void>;
}

export function defaultCarriers(config: Readonly<Config>): Map<string, CarrierAdapter> {
  const telnyx = createTelnyxAdapter({ apiUrl: config.telnyx.apiUrl, timeoutMs: config.telnyx.timeoutMs });
  return new Map([[telnyx.carrier, telnyx]]);
}

/**
 * First start with an empty agents table: create the ProjectSuperAdmin. A generated password is
 * printed once (never logged); later starts leave the agents alone.
 */
export async function bootstrapAdmin(store: Store, config: Readonly<Config>, logger: Logger, print: (text: string) => void): Promise<void> {
  if (store.agents.count() > 0) return;
  const generated = config.admin.password === '';
  const password = generated ? generatePassword() : config.admin.password;
  const created = store.agents.createIfNoAgents({
    username: config.admin.username,
    passwordHash: await hashPassword(password),
    permission: Permission.ProjectSuperAdmin,
  });
  if (!created) return; // another process bootstrapped first
  logger.info({ username: created.username, generated_password: generated }, 'admin agent created');
  if (generated) {
    print(
      `\noutdial: created admin user "${created.username}" with password: ${password}\n` +
        'outdial: this password is shown only once; set OUTDIAL_ADMIN_PASSWORD to choose your own on a fresh database.\n\n',
    );
  }
}

/** The composition root: store, admin API (and, in later issues, the SIP side). */
export async function startEngine(config: Readonly<Config>, logger: Logger, options: EngineOptions = {}): Promise<Engine> {
  const store = openStore({ path: config.db.path, logger, ...(options.micros ? { micros: options.micros } : {}) });
  let admin: FastifyInstance | undefined;
  try {
    await bootstrapAdmin(store, config, logger, options.print ?? ((t) => process.stdout.write(t)));
    const tokens = createTokenSigner(config.auth.jwtSecret || store.settings.jwtSecret(), config.auth.tokenTtlSeconds);
    admin = await buildAdminApp({ config, logger, store, tokens, carriers: options.carriers ?? defaultCarriers(config) });
    const http = await listenAdmin(admin, config.http.host, config.http.port);
    logger.info({ host: http.host, port: http.port, db: config.db.path }, 'admin API listening');
    const app = admin;
    let closed = false;
    return {
      http,
      store,
      admin: app,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        store.close();
      },
    };
  } catch (err) {
    await admin?.close();
    store.close();
    throw err;
  }
}
