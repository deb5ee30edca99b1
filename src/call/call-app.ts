import Srf from 'drachtio-srf';
import type { CallLimiter, CallSlot } from '../cluster/call-limiter.ts';
import { AlwaysHeldLease, type Lease } from '../cluster/lease.ts';
import { LocalCallLimiter } from '../cluster/local-call-limiter.ts';
import type { Config } from '../config/config-schema.ts';
import type { Logger } from '../log/logger.ts';
import type { HealthStatus, ProviderRecord, RegistrationStatus } from '../routing/model.ts';
import { ProviderRegistrar } from '../register/provider-registrar.ts';
import { parseCustomerHeader } from '../routing/customer.ts';
import { computeAttempts, type Attempt } from '../routing/dial-route-preview.ts';
import { createFailoverPolicy } from '../routing/failover-policy.ts';
import { createHeaderPolicy, userPartOf } from '../routing/header-policy.ts';
import { normalizeDestination } from '../routing/number.ts';
import { ackWaitMs, systemClock, type Clock } from '../sip/clock.ts';
import { CallMetrics } from './call-metrics.ts';
import { CallRecordBuilder, type CallRecord } from './call-record.ts';
import { ALLOW_IN_DIALOG, refuseMethod, reliableProvisionals, SUPPORTED, unsupportedRequires } from './capabilities.ts';
import type { DialPlanCache } from './dial-plan-cache.ts';
import { nextMaxForwards } from './max-forwards.ts';
import { OutboundCall } from './outbound-call.ts';
import { createSipOptionsProbe, ProviderProber } from './provider-prober.ts';
import { MIN_SE_SECONDS, readTimerRequest } from './session-timer.ts';
import { SourcePolicy } from './source-policy.ts';
import type { WireLink } from '../edge/wire/wire-link.ts';
import {
  connectSrf,
  connectSrfLink,
  disconnectSrf,
  indexHeaders,
  onSrfClose,
  ROUTABLE_METHODS,
  routeMethod,
  srfCarrierInviter,
  srfPlatformAnswerer,
  srfRegisterSender,
  srfRequester,
  stackDialogId,
  type CarrierInviter,
  type DigestCredentials,
  installSrfParserShortcuts,
} from './srf-adapter.ts';

/** Methods the app takes out of a dialog; srf's other methods are answered 405 (docs/routing.md §7). */
const TAKEN_METHODS = new Set(['INVITE', 'OPTIONS']);
/** Answered by the SIP stack itself, never by an app: ACK and CANCEL belong to INVITE transactions. */
const STACK_METHODS = new Set(['ACK', 'CANCEL', 'PRACK']);

const RECONNECT_MAX_DELAY_MS = 1000;
/** RFC 3261 §17.1.1.1 */
const DEFAULT_T1_MS = 500;

export interface CallAppOptions {
  readonly routing: Config['routing'];
  /** T1 of the SIP stack (RFC 3261 §17.1.1.1; default 500 ms): the ACK wait is 64 × T1. */
  readonly sip?: Pick<Config['sip'], 't1Ms'>;
  readonly drachtio: { host: string; port: number; secret: string };
  /** the embedded edge's in-process link, used instead of TCP to `drachtio` (docs/performance.md §2) */
  readonly link?: WireLink;
  readonly dialPlan: DialPlanCache;
  readonly logger: Logger;
  /** how long start waits for the first connection before going on (reconnects continue). */
  readonly connectWaitMs?: number;
  /**
   * Records a provider's probed health (the store's setHealth). Without it, or with
   * `routing.healthCheckIntervalMs` 0, providers are not probed.
   */
  readonly setHealth?: (id: string, status: HealthStatus, checkedAt: string) => void;
  /** timers of the call path (tests pass a manual clock); default the system clock. */
  readonly clock?: Clock;
  /** a provider's digest credentials (provider-credentials.ts); default: no provider has any */
  readonly credentials?: (provider: ProviderRecord) => DigestCredentials | undefined;
  /** REGISTER for providers with `register` (docs/routing.md §9); without it none is sent */
  readonly registration?: {
    /** the `registrations` lease (AlwaysHeldLease on a single instance) */
    readonly lease: Lease;
    readonly setRegistration: (id: string, status: RegistrationStatus, checkedAt: string) => void;
    readonly retryMs: number;
    readonly retryMaxMs: number;
  };
  /**
   * Told every call's record when it ends (the record sink that stores them). Called on the SIP
   * path: it must return at once and never throw.
   */
  readonly onCallEnded?: (record: CallRecord) => void;
  /**
   * Counts calls against `routing.maxConcurrentCalls` under the key `calls` (docs/cluster.md §2),
   * and each provider's attempts against its max_calls / max_cps (docs/cluster.md §5): the
   * engine's, cluster-wide with Redis; default one of this process alone.
   */
  readonly limiter?: CallLimiter;
  /** Probes run while this instance holds it (docs/cluster.md §4); default always held. */
  readonly probeLease?: Lease;
}

/** The limiter key of the concurrent-call limit (docs/cluster.md §5). */
export const CALLS_KEY = 'calls';

export interface CallApp {
  /** call counters and timings (prom-client), served by the admin API at GET /metrics. */
  readonly metrics: CallMetrics;
  /** INVITEs toward carriers through this app's SIP connection (provider test calls use it too). */
  readonly inviter: CarrierInviter;
  activeCalls(): number;
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * The drachtio-srf application that routes outbound calls (docs/routing.md). It connects to the
 * embedded SIP edge or to an external drachtio-server — it cannot tell which — and reconnects
 * whenever that connection drops.
 */
export async function startCallApp(opts: CallAppOptions): Promise<CallApp> {
  const { routing, logger } = opts;
  const log = logger.child({ component: 'call-app' });
  const sources = new SourcePolicy(routing.trustedSources);
  const failover = createFailoverPolicy(routing.failoverCodes, routing.noFailoverCodes);
  const headerPolicy = createHeaderPolicy(routing);
  if (!installSrfParserShortcuts()) log.info('drachtio-srf is not the release its parser shortcuts were checked against: srf parses with its own code (docs/performance.md §12)');
  const srf = new Srf();
  const report = (record: CallRecord) => {
    log.info(record, 'call ended');
    metrics.callEnded(record);
    try {
      opts.onCallEnded?.(record);
    } catch (err) {
      log.error({ err }, 'call record not handed on');
    }
  };
  let active = 0;
  /**
   * What ends a call's admission. Made here, not in the INVITE handler: a closure there would
   * keep the handler's whole scope (the INVITE's headers, the routing inputs) for the call's
   * length (docs/performance.md §9).
   */
  const callEnded = (admission: CallSlot) => {
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      active--;
      admission.release();
    };
  };
  const metrics = new CallMetrics(() => active);
  let isConnected = false;
  let closed = false;
  /** the last connection problem logged, so a peer that stays down is not logged every retry. */
  let lastProblem: string | undefined;
  const drachtioAddress = opts.link ? 'in-process' : `${opts.drachtio.host}:${opts.drachtio.port}`;

  // srf emits 'connect' with an Error when the server refused the secret; the server then closes
  // the connection and srf retries like after any other drop.
  srf.on('connect', (err: Error | null) => {
    if (closed) {
      disconnectSrf(srf);
      return;
    }
    if (err) {
      isConnected = false;
      if (lastProblem !== 'auth') log.error({ drachtio: drachtioAddress, err: err.message }, 'drachtio refused the secret; retrying');
      lastProblem = 'auth';
      return;
    }
    isConnected = true;
    lastProblem = undefined;
    log.info({ drachtio: drachtioAddress }, 'connected to drachtio');
  });
  srf.on('error', (err: Error) => {
    isConnected = false;
    if (closed || lastProblem === err.message) return;
    lastProblem = err.message;
    log.warn({ drachtio: drachtioAddress, err: err.message }, 'drachtio connection error; retrying');
  });
  onSrfClose(srf, () => {
    if (isConnected && !closed) log.warn({ drachtio: drachtioAddress }, 'drachtio connection lost; reconnecting');
    isConnected = false;
  });

  // Carriers and platforms ping their peers with OPTIONS (RFC 3261 §11); a routing core that
  // answered 503 here would be marked down by them. Answered from any source: it places nothing.
  routeMethod(srf, 'OPTIONS', (_req, res) => {
    res.send(200, undefined, { headers: { Allow: ALLOW_IN_DIALOG, Accept: 'application/sdp', Supported: SUPPORTED } });
  });

  // Every other method srf can route (docs/routing.md §7): 405 with Allow, never the 503 a SIP
  // server gives for methods no app took, which tells a peer outdial is down (RFC 3263 §4.3).
  for (const method of ROUTABLE_METHODS) {
    if (TAKEN_METHODS.has(method) || STACK_METHODS.has(method)) continue;
    routeMethod(srf, method, (req, res) => {
      // srf hands requests of its own dialogs to them; one here names no dialog srf knows.
      const refusal = refuseMethod(method, req.has('To') ? req.get('To') : undefined, stackDialogId(req) !== undefined);
      res.send(refusal.status, undefined, { headers: refusal.headers });
    });
  }

  const credentials = opts.credentials ?? (() => undefined);
  const inviter = srfCarrierInviter(srf);
  const answerer = srfPlatformAnswerer(srf);
  const clock = opts.clock ?? systemClock;
  const ackWait = ackWaitMs(opts.sip?.t1Ms ?? DEFAULT_T1_MS);
  const limiter = opts.limiter ?? new LocalCallLimiter();
  const callLimits = { maxCalls: routing.maxConcurrentCalls, maxCps: 0 };

  srf.invite((req, res) => {
    const headers = indexHeaders(req);
    const record = new CallRecordBuilder(headers.get('Call-ID') ?? '', `${req.source_address}:${req.source_port}`);
    const from = headers.get('From');
    if (from !== undefined) record.caller(userPartOf(from));
    const reject = (status: number, reason: string, extra: Record<string, string> = {}) => {
      res.send(status, undefined, { headers: extra });
      record.outcome(status, reason);
      report(record.build());
    };
    // docs/routing.md §1, in order: trusted source (the embedded edge refuses untrusted sources
    // before any transaction; this check is for an external drachtio-server), hop count,
    // extensions, session interval, destination, customer, concurrency.
    if (!sources.isTrusted(req.source_address)) return reject(403, 'untrusted source');
    const maxForwards = nextMaxForwards(headers.get('Max-Forwards'));
    if (maxForwards === undefined) return reject(483, 'too many hops');
    const unsupported = unsupportedRequires(headers.get('Require'));
    if (unsupported.length > 0) return reject(420, 'unsupported extension', { Unsupported: unsupported.join(', ') });
    const timer = readTimerRequest(headers);
    if (!timer.ok) return reject(422, 'session interval too small', { 'Min-SE': String(MIN_SE_SECONDS) });
    const destination = normalizeDestination(req.uri);
    if (!destination.ok) return reject(484, destination.reason);
    const customer = parseCustomerHeader(headers.get(routing.customerHeader));
    if (!customer.ok) return reject(400, customer.reason);
    record.routing(customer.customerId, destination.number);
    // The limiter may ask Redis (at most its command timeout): a CANCEL meanwhile is kept.
    let cancelled = false;
    const onCancel = () => (cancelled = true);
    req.on('cancel', onCancel);
    limiter.admit(CALLS_KEY, callLimits).then(
      (admission) => {
        req.removeListener('cancel', onCancel);
        if (cancelled) {
          // The SIP stack answered the CANCEL and 487 already (drachtio's quick-CANCEL).
          if (admission.admitted) admission.release();
          record.outcome(487, 'cancelled by platform');
          return report(record.build());
        }
        if (!admission.admitted) return reject(503, 'concurrent call limit');
        const attempts = computeAttempts(opts.dialPlan.current(), destination.number, customer.customerId);
        if (attempts.length === 0) {
          admission.release();
          return reject(404, 'no route');
        }
        active++;
        const call = new OutboundCall(
          {
            inviter,
            answerer,
            clock,
            logger: log,
            failover,
            headerPolicy,
            connectTimeoutMs: routing.connectTimeoutMs,
            ackWaitMs: ackWait,
            report,
            limiter,
            credentials,
          },
          req,
          res,
          record,
          { headers, maxForwards, timer: timer.request, reliable: reliableProvisionals(headers.get('Supported'), headers.get('Require')) },
        );
        runToEnd(call, attempts, log, callEnded(admission));
      },
      (err: unknown) => {
        // admit() rejects only for limits that are not limits (a programming error).
        log.error({ err }, 'call admission failed');
        if (!cancelled) reject(500, 'admission failed');
      },
    );
  });

  const firstConnect = new Promise<void>((resolve) => {
    const onConnect = (err: Error | null) => {
      if (err) return;
      srf.removeListener('connect', onConnect);
      resolve();
    };
    srf.on('connect', onConnect);
  });
  // srf backs off from 255 ms by ×1.7 per failed try, capped here: a restarted drachtio-server
  // is found again within a second.
  if (opts.link) connectSrfLink(srf, opts.link, opts.drachtio.secret, (err) => log.error({ err }, 'call app failed on a wire message'));
  else connectSrf(srf, opts.drachtio, RECONNECT_MAX_DELAY_MS);
  const wait = opts.connectWaitMs ?? 5000;
  const timer = new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
  await Promise.race([firstConnect, timer]);
  if (!isConnected) log.warn({ waited_ms: wait }, 'drachtio not reachable yet; still trying');

  // One instance of the cluster probes at a time (docs/cluster.md §4); the others learn the
  // results from the store like any provider change.
  let prober: ProviderProber | undefined;
  let probing: Promise<void> = Promise.resolve();
  const setHealth = opts.setHealth;
  const probeLease = setHealth && routing.healthCheckIntervalMs > 0 ? (opts.probeLease ?? new AlwaysHeldLease('probes')) : undefined;
  probeLease?.start((held) => {
    if (held && !closed && setHealth) {
      prober = new ProviderProber({
        intervalMs: routing.healthCheckIntervalMs,
        timeoutMs: routing.healthCheckTimeoutMs,
        unhealthyAfter: routing.unhealthyAfter,
        providers: () => opts.dialPlan.current().providers,
        probe: createSipOptionsProbe(srfRequester(srf)),
        setHealth,
        ready: () => isConnected,
        logger,
      });
      prober.start();
    } else if (!held && prober) {
      const stopping = prober;
      prober = undefined;
      probing = probing.then(() => stopping.close());
    }
  });

  let registrar: ProviderRegistrar | undefined;
  let stopFollowing: (() => void) | undefined;
  if (opts.registration) {
    registrar = new ProviderRegistrar({
      sender: srfRegisterSender(srf),
      lease: opts.registration.lease,
      providers: () => opts.dialPlan.current().providers,
      credentials,
      setRegistration: opts.registration.setRegistration,
      retryMs: opts.registration.retryMs,
      retryMaxMs: opts.registration.retryMaxMs,
      ready: () => isConnected,
      logger,
    });
    const r = registrar;
    stopFollowing = opts.dialPlan.onUpdate(() => r.sync());
    registrar.start();
  }

  return {
    metrics,
    inviter,
    activeCalls: () => active,
    connected: () => isConnected,
    async close() {
      if (closed) return;
      closed = true;
      await probeLease?.stop();
      await prober?.close();
      await probing;
      stopFollowing?.();
      // Expires: 0 for every binding goes out before the connection to the SIP server closes.
      await registrar?.close();
      isConnected = false;
      metrics.close();
      disconnectSrf(srf);
    },
  };
}

/**
 * Runs a call to its end (a function of its own for the reason given at callEnded). `ended`
 * runs once: at the call's end, or when the plan failed unexpectedly.
 */
function runToEnd(call: OutboundCall, attempts: readonly Attempt[], log: Logger, ended: () => void): void {
  call.run(attempts, ended).catch((err: unknown) => {
    log.error({ err }, 'call failed unexpectedly');
    ended();
  });
}
