import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp, listenAdmin, type AdminDeps } from './admin/admin-app.ts';
import { dialRouteEndpoints } from './admin/dialroute-endpoints.ts';
import { providerCallEndpoints } from './admin/provider-call-endpoints.ts';
import { startCallApp, type CallApp } from './call/call-app.ts';
import type { CallRecord } from './call/call-record.ts';
import { CallRecordPruner } from './call/call-record-pruner.ts';
import { CallRecordSink } from './call/call-record-sink.ts';
import { ProviderTestCalls } from './call/provider-test-call.ts';
import { testCallMediaAddress } from './call/test-call-offer.ts';
import { startClusterServices, type ClusterServices } from './cluster/cluster-services.ts';
import { DialPlanCache } from './call/dial-plan-cache.ts';
import { ProviderCredentials } from './call/provider-credentials.ts';
import { openSecretBox } from './secrets/secret-key.ts';
import { storedSigningKey } from './secrets/signing-key.ts';
import { startEdge, type EdgeStats, type RunningEdge } from './edge/edge.ts';
import type { WireLink } from './edge/wire/wire-link.ts';
import { startEdgeThread, type ThreadedEdge } from './edge/edge-thread.ts';
import { generatePassword, hashPassword } from './admin/auth/password.ts';
import { createTokenSigner } from './admin/auth/token.ts';
import type { CarrierAdapter } from './carrier/carrier.ts';
import { createTelnyxAdapter } from './carrier/telnyx.ts';
import type { Config } from './config/config-schema.ts';
import type { Logger } from './log/logger.ts';
import { systemClock } from './sip/clock.ts';
import type { MicrosSource } from './store/clock.ts';
import { describeStore, leaseStoreOf, openStore, Permission, type Store, type StoreOptions } from './store/store.ts';

export interface EngineOptions {
  /** Where the generated first-start password is printed (default: stdout). */
  print?: (text: string) => void;
  /** Carrier adapters for provider setup (default: Telnyx from config.telnyx). */
  carriers?: ReadonlyMap<string, CarrierAdapter>;
  /** More ProjectSuperAdmin endpoints under /v1.0 (see AdminDeps.extraEndpoints). */
  extraEndpoints?: AdminDeps['extraEndpoints'];
  /** Test hook: row timestamps from this clock. */
  micros?: MicrosSource;
  /** Test hook: the time (ms) call record pruning counts the retention from; default Date.now. */
  recordClock?: () => number;
  /** Test hook: PostgreSQL change-feed timings. */
  feed?: StoreOptions['feed'];
  /** Test hook: cluster timings and names (docs/cluster.md). */
  cluster?: { instanceId?: string; redisCommandTimeoutMs?: number; leaseTtlMs?: number };
}

export interface Engine {
  /** The admin API's bound address (useful with port 0). */
  readonly http: { host: string; port: number };
  /** Where SIP peers reach the embedded edge; undefined with an external drachtio-server. */
  readonly sip: { host: string; port: number } | undefined;
  readonly store: Store;
  readonly admin: FastifyInstance;
  readonly calls: CallApp;
  readonly dialPlan: DialPlanCache;
  /** Where ended calls' records wait to be stored (docs/api.md "Call records"). */
  readonly callRecords: CallRecordSink;
  readonly recordPruner: CallRecordPruner;
  readonly testCalls: ProviderTestCalls;
  /** The embedded edge's live transaction/dialog counts; undefined with an external drachtio-server. */
  edgeStats(): EdgeStats | undefined;
  /** The call limiter and leases this instance shares with the others (docs/cluster.md §6). */
  readonly cluster: ClusterServices;
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
  if ((await store.agents.count()) > 0) return;
  const generated = config.admin.password === '';
  const password = generated ? generatePassword() : config.admin.password;
  const created = await store.agents.createIfNoAgents({
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

/** The embedded edge as the engine uses it, in this thread or in a worker. */
type SipEdge = Pick<RunningEdge, 'sipAddress' | 'wireAddress' | 'link' | 'close'> & { stats(): EdgeStats | undefined };

/**
 * The SIP side: the embedded edge (unless an external drachtio-server is configured) and the
 * drachtio-srf call-routing application connected to it.
 */
async function startSip(
  config: Readonly<Config>,
  logger: Logger,
  dialPlan: DialPlanCache,
  store: Store,
  cluster: ClusterServices,
  credentials: ProviderCredentials,
  onCallEnded: (record: CallRecord) => void,
): Promise<{ edge: SipEdge | undefined; calls: CallApp }> {
  let edge: SipEdge | undefined;
  let threaded: ThreadedEdge | undefined;
  let drachtio: { host: string; port: number; secret: string };
  let link: WireLink | undefined;
  if (config.drachtio.address !== '') {
    const i = config.drachtio.address.lastIndexOf(':');
    drachtio = {
      host: config.drachtio.address.slice(0, i),
      port: Number(config.drachtio.address.slice(i + 1)),
      secret: config.drachtio.secret,
    };
  } else {
    // Embedded: the wire secret only has to be shared within this process.
    const secret = config.edge.secret || randomBytes(24).toString('base64url');
    const edgeOptions = {
      sip: config.sip,
      wire: { host: config.edge.host, port: config.edge.port, secret },
      // docs/edge.md §8: the platforms that may place calls, refused before any transaction otherwise
      untrusted: { trustedSources: config.routing.trustedSources, action: config.sip.untrustedAction },
    };
    // docs/performance.md §3: OUTDIAL_EDGE_THREAD=on puts the edge on a second core
    if (config.edge.thread === 'on') edge = threaded = await startEdgeThread(edgeOptions, config.log.level);
    else edge = await startEdge({ ...edgeOptions, logger });
    logger.info({ sip: edge.sipAddress, wire: edge.wireAddress }, 'embedded SIP edge listening');
    drachtio = { ...edge.wireAddress, secret };
    // docs/performance.md §2: the app talks to the embedded edge in process, not over TCP
    link = edge.link;
  }
  try {
    const calls = await startCallApp({
      routing: config.routing,
      sip: config.sip,
      drachtio,
      ...(link ? { link } : {}),
      dialPlan,
      logger,
      onCallEnded,
      limiter: cluster.limiter,
      probeLease: cluster.lease('probes'),
      // The prober does not wait for the write; a failed one is logged and the next probe retries.
      setHealth: (id, status, checkedAt) => {
        store.providers.setHealth(id, status, checkedAt).catch((err: unknown) => {
          logger.warn({ err, provider_id: id }, 'provider health not recorded');
        });
      },
      credentials: (p) => credentials.of(p),
      registration: {
        lease: cluster.lease('registrations'),
        retryMs: config.register.retryMs,
        retryMaxMs: config.register.retryMaxMs,
        setRegistration: (id, status, checkedAt) => {
          store.providers.setRegistration(id, status, checkedAt).catch((err: unknown) => {
            logger.warn({ err, provider_id: id }, 'provider registration not recorded');
          });
        },
      },
    });
    const worker = threaded;
    if (worker) calls.metrics.addThread('edge', async () => (await worker.snapshot())?.delay);
    return { edge, calls };
  } catch (err) {
    await edge?.close();
    throw err;
  }
}

/** The composition root: store, dial plan, SIP edge, call routing and the admin API. */
export async function startEngine(config: Readonly<Config>, logger: Logger, options: EngineOptions = {}): Promise<Engine> {
  const store = await openStore({
    path: config.db.path,
    url: config.db.url,
    poolSize: config.db.poolSize,
    busyTimeoutMs: config.db.busyTimeoutMs,
    logger,
    ...(options.micros ? { micros: options.micros } : {}),
    ...(options.feed ? { feed: options.feed } : {}),
  });
  let admin: FastifyInstance | undefined;
  let sip: { edge: SipEdge | undefined; calls: CallApp } | undefined;
  let dialPlan: DialPlanCache | undefined;
  // Records are stored off the SIP path (docs/api.md "Call records"); a full disk costs a call nothing.
  const sink = new CallRecordSink({ store: store.calls, logger });
  const pruner = new CallRecordPruner({
    calls: store.calls,
    providerCalls: store.providerCalls,
    retentionDays: config.callRecords.retentionDays,
    logger,
    ...(options.recordClock ? { now: options.recordClock } : {}),
  });
  let testCalls: ProviderTestCalls | undefined;
  let cluster: ClusterServices | undefined;
  try {
    // Secrets at rest (docs/api.md §20): the key first, so nothing sealed is written without it.
    const secrets = await openSecretBox(
      { key: config.secrets.key, keyFile: config.secrets.keyFile, dbPath: config.db.path, ...(config.db.url !== '' ? { database: describeStore(store, config.db.path) } : {}) },
      store.settings,
      logger,
    );
    const plan = await DialPlanCache.load(store, logger);
    dialPlan = plan;
    await bootstrapAdmin(store, config, logger, options.print ?? ((t) => process.stdout.write(t)));
    const services = await startClusterServices({
      redisUrl: config.redis.url,
      storeLeases: leaseStoreOf(store),
      sharedStore: config.db.url !== '',
      logger,
      ...options.cluster,
    });
    cluster = services;
    const credentials = new ProviderCredentials(secrets, logger);
    // A deleted provider's opened password is not kept in memory.
    plan.onUpdate(() => credentials.retain(plan.current().providers));
    sip = await startSip(config, logger, plan, store, services, credentials, (record) => sink.push(record));
    sink.registerMetrics(sip.calls.metrics.registry);
    pruner.registerMetrics(sip.calls.metrics.registry);
    const tests = new ProviderTestCalls({
      store,
      inviter: sip.calls.inviter,
      credentials: (p) => credentials.of(p),
      logger,
      clock: systemClock,
      connectTimeoutMs: config.routing.connectTimeoutMs,
      mediaAddress: testCallMediaAddress(config),
      ...(options.micros ? { micros: options.micros } : {}),
    });
    testCalls = tests;
    await tests.recover();
    const tokens = createTokenSigner(config.auth.jwtSecret || (await storedSigningKey(store.settings, secrets, logger)), config.auth.tokenTtlSeconds);
    admin = await buildAdminApp({
      config,
      logger,
      store,
      tokens,
      secrets,
      carriers: options.carriers ?? defaultCarriers(config),
      extraEndpoints: [dialRouteEndpoints(() => plan.current(), services.limiter, (id) => store.routes.get(id)), providerCallEndpoints(tests), ...(options.extraEndpoints ?? [])],
      metrics: sip.calls.metrics.registry,
    });
    const http = await listenAdmin(admin, config.http.host, config.http.port);
    store.watchExternalChanges();
    pruner.start();
    logger.info({ host: http.host, port: http.port, db: describeStore(store, config.db.path) }, 'admin API listening');
    const app = admin;
    const running = sip;
    let closed = false;
    return {
      http,
      sip: running.edge?.sipAddress,
      store,
      admin: app,
      calls: running.calls,
      dialPlan: plan,
      callRecords: sink,
      recordPruner: pruner,
      testCalls: tests,
      edgeStats: () => running.edge?.stats(),
      cluster: services,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await tests.close();
        await running.calls.close();
        await sink.close();
        await pruner.close();
        await running.edge?.close();
        await services.close();
        plan.close();
        await store.close();
      },
    };
  } catch (err) {
    await admin?.close();
    await testCalls?.close();
    await sip?.calls.close();
    await sink.close();
    await pruner.close();
    await sip?.edge?.close();
    await cluster?.close();
    dialPlan?.close();
    await store.close();
    throw err;
  }
}
