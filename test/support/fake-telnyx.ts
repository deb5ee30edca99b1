import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local stand-in for the Telnyx v2 REST API, covering what provider setup uses:
 * GET /whoami, POST|DELETE /outbound_voice_profiles, /fqdn_connections, /fqdns.
 * Shapes follow the Telnyx docs: `{"data": {...}}` on success, `{"errors": [{code, title, detail,
 * source: {pointer}}]}` on failure, 19-digit string ids, 201 for connection and fqdn creation.
 * Deleting a profile still used by a connection, or a connection that still has an fqdn, is refused
 * with 422 "Resource in use", so a rollback in the wrong order shows up as leftovers.
 */

export type FakeTelnyxStep = 'whoami' | 'profile' | 'connection' | 'fqdn' | 'deleteProfile' | 'deleteConnection' | 'deleteFqdn';

export interface RecordedRequest {
  method: string;
  /** Path below the API base (`/whoami`, `/fqdns/123`), without the `/v2` prefix. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when there was none, the raw text when it was not JSON. */
  body: unknown;
}

export interface FakeTelnyxError {
  code: string;
  title: string;
  detail: string;
  source?: { pointer: string };
}

export type FakeRecord = Record<string, unknown> & { id: string };

export interface FakeTelnyx {
  /** API base URL, `http://127.0.0.1:<port>/v2`. */
  url: string;
  validKey: string;
  requests: RecordedRequest[];
  /** The next request to `step` (after authentication) fails with `status`, or is never answered. */
  failNext(step: FakeTelnyxStep, status: number | 'hang', detail?: string): void;
  /**
   * POST /outbound_voice_profiles answers 422 while its whitelisted_destinations hold any of
   * these: one error per country with a JSON pointer (`pointer`, the default), or one error
   * "... following countries: XX, YY" naming at most `perAnswer` of them (`following-countries`,
   * the wording VoIPBIN handles), so several rounds are needed.
   */
  refuseCountries(codes: string[], opts?: { wording?: 'pointer' | 'following-countries'; perAnswer?: number }): void;
  objects(): { profiles: FakeRecord[]; connections: FakeRecord[]; fqdns: FakeRecord[] };
  close(): Promise<void>;
}

const TITLES: Record<number, { code: string; title: string; detail: string }> = {
  400: { code: '10015', title: 'Bad Request', detail: 'The request failed because it was not well-formed.' },
  401: { code: '10009', title: 'Authentication failed', detail: 'The required authentication headers were either invalid or not included in the request.' },
  403: { code: '10010', title: 'Authorization failed', detail: 'You do not have permission to perform the requested action on the specified resource or resources.' },
  404: { code: '10005', title: 'Resource not found', detail: 'The requested resource or URL could not be found.' },
  422: { code: '10015', title: 'Bad Request', detail: 'The request failed because it was not well-formed.' },
  429: { code: '10011', title: 'Too many requests', detail: 'You have exceeded the maximum number of allowed requests.' },
  500: { code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' },
};

const ANI_FORMATS = ['+E.164', 'E.164', '+E.164-national', 'E.164-national'];
const DNIS_FORMATS = ['+e164', 'e164', 'national', 'sip_username'];

class HttpFailure extends Error {
  constructor(readonly status: number, readonly errors: FakeTelnyxError[]) {
    super(errors[0]?.title ?? String(status));
  }
}

function stockError(status: number, detail?: string, pointer?: string): FakeTelnyxError {
  const base = TITLES[status] ?? TITLES[status >= 500 ? 500 : 400]!;
  return { ...base, ...(detail === undefined ? {} : { detail }), ...(pointer === undefined ? {} : { source: { pointer } }) };
}

function missing(pointer: string): FakeTelnyxError {
  return { code: '10004', title: 'Missing required parameter', detail: `The '${pointer.slice(1)}' parameter is required.`, source: { pointer } };
}

function invalid(pointer: string, detail: string): FakeTelnyxError {
  return { code: '10015', title: 'Invalid value', detail, source: { pointer } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function telnyxId(): string {
  // Telnyx connection/profile ids are 19-digit numbers carried as strings.
  return `1${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e9)).padStart(9, '0')}`;
}

export async function startFakeTelnyx(opts: { validKey?: string } = {}): Promise<FakeTelnyx> {
  const validKey = opts.validKey ?? 'KEY_fake_0123456789abcdef';
  const requests: RecordedRequest[] = [];
  const failures = new Map<FakeTelnyxStep, Array<{ status: number | 'hang'; detail?: string }>>();
  const refused = new Set<string>();
  let refusalWording: 'pointer' | 'following-countries' = 'pointer';
  let refusalsPerAnswer = Infinity;
  const profiles = new Map<string, FakeRecord>();
  const connections = new Map<string, FakeRecord>();
  const fqdns = new Map<string, FakeRecord>();
  const sockets = new Set<Socket>();

  const now = (): string => new Date().toISOString();

  function createProfile(body: Record<string, unknown>): FakeRecord {
    const errors: FakeTelnyxError[] = [];
    if (!nonEmptyString(body.name)) errors.push(missing('/name'));
    if (body.traffic_type !== undefined && body.traffic_type !== 'conversational' && body.traffic_type !== 'short_duration') {
      errors.push(invalid('/traffic_type', "Must be one of: 'conversational', 'short_duration'."));
    }
    if (body.service_plan !== undefined && !['us', 'international', 'global'].includes(String(body.service_plan))) {
      errors.push(invalid('/service_plan', "Must be one of: 'us', 'international', 'global'."));
    }
    const dest = body.whitelisted_destinations;
    if (dest !== undefined) {
      if (!Array.isArray(dest) || dest.some((c) => typeof c !== 'string' || !/^[A-Z]{2}$/.test(c))) {
        errors.push(invalid('/whitelisted_destinations', 'Must be a list of ISO 3166-1 alpha-2 country codes.'));
      } else if (refusalWording === 'following-countries') {
        const named = dest.filter((c: string) => refused.has(c)).slice(0, refusalsPerAnswer);
        if (named.length > 0) {
          errors.push({ code: '10015', title: 'Unprocessable Entity', detail: `Outbound calls cannot be enabled for the following countries: ${named.join(', ')}` });
        }
      } else {
        dest.forEach((c: string, i) => {
          if (refused.has(c)) {
            errors.push({
              code: '10015',
              title: 'Invalid whitelisted destination',
              detail: `${c} is not a destination that can be whitelisted on this account.`,
              source: { pointer: `/whitelisted_destinations/${i}` },
            });
          }
        });
      }
    }
    if (errors.length > 0) throw new HttpFailure(422, errors);
    const record: FakeRecord = {
      id: telnyxId(),
      record_type: 'outbound_voice_profile',
      name: body.name,
      enabled: true,
      traffic_type: body.traffic_type ?? 'conversational',
      service_plan: body.service_plan ?? 'global',
      whitelisted_destinations: dest ?? ['US', 'CA'],
      connections_count: 0,
      created_at: now(),
      updated_at: now(),
    };
    profiles.set(record.id, record);
    return record;
  }

  function createConnection(body: Record<string, unknown>): FakeRecord {
    const errors: FakeTelnyxError[] = [];
    if (!nonEmptyString(body.connection_name)) errors.push(missing('/connection_name'));
    if (body.user_name !== undefined && (typeof body.user_name !== 'string' || !/^[A-Za-z0-9]{4,}$/.test(body.user_name))) {
      errors.push(invalid('/user_name', 'The user name must be alphanumeric and at least 4 characters long.'));
    }
    if (body.password !== undefined && (typeof body.password !== 'string' || body.password.length < 8)) {
      errors.push(invalid('/password', 'The password must be at least 8 characters long.'));
    }
    const inbound = body.inbound;
    if (inbound !== undefined) {
      if (!isRecord(inbound)) errors.push(invalid('/inbound', 'Must be an object.'));
      else {
        if (inbound.ani_number_format !== undefined && !ANI_FORMATS.includes(String(inbound.ani_number_format))) {
          errors.push(invalid('/inbound/ani_number_format', `Must be one of: ${ANI_FORMATS.join(', ')}.`));
        }
        if (inbound.dnis_number_format !== undefined && !DNIS_FORMATS.includes(String(inbound.dnis_number_format))) {
          errors.push(invalid('/inbound/dnis_number_format', `Must be one of: ${DNIS_FORMATS.join(', ')}.`));
        }
      }
    }
    const outbound = body.outbound;
    let profileId: string | undefined;
    if (outbound !== undefined) {
      if (!isRecord(outbound)) errors.push(invalid('/outbound', 'Must be an object.'));
      else if (outbound.outbound_voice_profile_id !== undefined) {
        profileId = String(outbound.outbound_voice_profile_id);
        if (!profiles.has(profileId)) {
          errors.push({
            code: '10017',
            title: 'Associated resource does not exist',
            detail: 'The requested parameter is invalid as the associated resource does not exist.',
            source: { pointer: '/outbound/outbound_voice_profile_id' },
          });
        }
      }
    }
    if (errors.length > 0) throw new HttpFailure(422, errors);
    const record: FakeRecord = {
      id: telnyxId(),
      record_type: 'fqdn_connection',
      active: true,
      connection_name: body.connection_name,
      user_name: body.user_name ?? null,
      password: body.password ?? null,
      inbound: inbound ?? {},
      outbound: outbound ?? {},
      created_at: now(),
      updated_at: now(),
    };
    connections.set(record.id, record);
    return record;
  }

  function createFqdn(body: Record<string, unknown>): FakeRecord {
    const errors: FakeTelnyxError[] = [];
    if (!nonEmptyString(body.connection_id)) errors.push(missing('/connection_id'));
    else if (!connections.has(body.connection_id)) {
      errors.push({ code: '10017', title: 'Associated resource does not exist', detail: 'The connection does not exist.', source: { pointer: '/connection_id' } });
    }
    if (!nonEmptyString(body.fqdn)) errors.push(missing('/fqdn'));
    if (!nonEmptyString(body.dns_record_type)) errors.push(missing('/dns_record_type'));
    else if (body.dns_record_type !== 'a' && body.dns_record_type !== 'srv') errors.push(invalid('/dns_record_type', "Must be one of: 'a', 'srv'."));
    const port = body.port;
    if (port !== undefined && port !== null && (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)) {
      errors.push(invalid('/port', 'Must be an integer between 1 and 65535.'));
    }
    if (body.dns_record_type === 'srv' && port !== undefined && port !== null) {
      errors.push(invalid('/dns_record_type', "When a port is set the DNS record type must be 'a'."));
    }
    if (errors.length > 0) throw new HttpFailure(422, errors);
    const record: FakeRecord = {
      id: telnyxId(),
      record_type: 'fqdn',
      connection_id: body.connection_id,
      fqdn: body.fqdn,
      port: port ?? 5060,
      dns_record_type: body.dns_record_type,
      created_at: now(),
      updated_at: now(),
    };
    fqdns.set(record.id, record);
    return record;
  }

  function remove(store: Map<string, FakeRecord>, id: string, inUse: () => boolean): FakeRecord {
    const record = store.get(id);
    if (!record) throw new HttpFailure(404, [stockError(404)]);
    if (inUse()) {
      throw new HttpFailure(422, [{ code: '10021', title: 'Resource in use', detail: 'The resource can not be removed as it is still in use.' }]);
    }
    store.delete(id);
    return record;
  }

  type Route = { step: FakeTelnyxStep; status: number; run: (body: Record<string, unknown>) => FakeRecord | Record<string, unknown> };

  function route(method: string, path: string): Route | undefined {
    if (method === 'GET' && path === '/whoami') {
      return { step: 'whoami', status: 200, run: () => ({ record_type: 'whoami', organization_id: 'fake-org', user_id: 'fake-user', email: 'owner@example.com' }) };
    }
    if (method === 'POST' && path === '/outbound_voice_profiles') return { step: 'profile', status: 200, run: createProfile };
    if (method === 'POST' && path === '/fqdn_connections') return { step: 'connection', status: 201, run: createConnection };
    if (method === 'POST' && path === '/fqdns') return { step: 'fqdn', status: 201, run: createFqdn };
    const m = /^\/(outbound_voice_profiles|fqdn_connections|fqdns)\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && m) {
      const id = decodeURIComponent(m[2]!);
      if (m[1] === 'outbound_voice_profiles') {
        return {
          step: 'deleteProfile',
          status: 200,
          run: () => remove(profiles, id, () => [...connections.values()].some((c) => isRecord(c.outbound) && c.outbound.outbound_voice_profile_id === id)),
        };
      }
      if (m[1] === 'fqdn_connections') {
        return { step: 'deleteConnection', status: 200, run: () => remove(connections, id, () => [...fqdns.values()].some((f) => f.connection_id === id)) };
      }
      return { step: 'deleteFqdn', status: 200, run: () => remove(fqdns, id, () => false) };
    }
    return undefined;
  }

  function send(res: ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let badJson = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const fullPath = new URL(req.url ?? '/', 'http://fake').pathname;
    const path = fullPath.startsWith('/v2/') ? fullPath.slice(3) : fullPath;
    const method = req.method ?? 'GET';
    requests.push({ method, path, headers: req.headers, body });

    if (req.headers.authorization !== `Bearer ${validKey}`) return send(res, 401, { errors: [stockError(401)] });
    const r = fullPath.startsWith('/v2/') ? route(method, path) : undefined;
    if (!r) return send(res, 404, { errors: [stockError(404)] });

    const failure = failures.get(r.step)?.shift();
    if (failure?.status === 'hang') return; // never answered; close() destroys the socket
    if (failure) return send(res, failure.status, { errors: [stockError(failure.status, failure.detail)] });

    if (badJson) return send(res, 400, { errors: [{ code: '10023', title: 'Invalid JSON', detail: 'The supplied JSON body is invalid.' }] });
    if (method !== 'GET' && method !== 'DELETE' && !isRecord(body)) return send(res, 422, { errors: [stockError(422, 'A JSON object body is required.')] });
    try {
      send(res, r.status, { data: r.run(isRecord(body) ? body : {}) });
    } catch (err) {
      if (err instanceof HttpFailure) return send(res, err.status, { errors: err.errors });
      throw err;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { errors: [stockError(500, String(err))] });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v2`,
    validKey,
    requests,
    failNext(step, status, detail) {
      const queue = failures.get(step) ?? [];
      queue.push(detail === undefined ? { status } : { status, detail });
      failures.set(step, queue);
    },
    refuseCountries(codes, opts = {}) {
      for (const c of codes) refused.add(c);
      refusalWording = opts.wording ?? refusalWording;
      refusalsPerAnswer = opts.perAnswer ?? refusalsPerAnswer;
    },
    objects() {
      const copy = (m: Map<string, FakeRecord>): FakeRecord[] => [...m.values()].map((r) => structuredClone(r));
      return { profiles: copy(profiles), connections: copy(connections), fqdns: copy(fqdns) };
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and keep-alive sockets would hold close() open forever.
        for (const s of sockets) s.destroy();
      });
    },
  };
}
