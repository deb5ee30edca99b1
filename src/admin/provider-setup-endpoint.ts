import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CarrierError, type CarrierLeftover, type CarrierSetupResult } from '../carrier/carrier.ts';
import { ApiError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { AdminDeps } from './admin-deps.ts';
import { parseHostPort } from './provider-fields.ts';
import { providerView } from './provider-view.ts';
import { AuthQuery, Provider, SetupBody, errorResponses, SECURITY } from './schemas.ts';

const DEFAULT_SIP_PORT = 5060;

/** config.publicSipAddress → where the carrier must send calls; 409 while it is not configured. */
function publicSipAddressOf(text: string): { host: string; port: number } {
  const parsed = text.trim() === '' ? undefined : parseHostPort(text.trim());
  if (!parsed) {
    throw new ApiError(
      'SETUP_NOT_CONFIGURED',
      text.trim() === ''
        ? 'provider setup needs the public SIP address: set OUTDIAL_PUBLIC_SIP_ADDRESS to the host:port carriers should send calls to'
        : `OUTDIAL_PUBLIC_SIP_ADDRESS ${JSON.stringify(text)} is not a host:port`,
    );
  }
  return { host: parsed.host, port: parsed.port ?? DEFAULT_SIP_PORT };
}

/**
 * The key as pasted has had its surrounding blanks and line breaks trimmed (route config
 * `trimStrings`) and control characters refused (string-checks.ts). What is left must be one
 * printable ASCII word: a space inside is a bad paste, and the key is never echoed back.
 */
function checkApiKey(key: string): string {
  if (key === '') throw new ApiError('INVALID_API_KEY', 'credentials.api_key is empty once surrounding blanks are trimmed');
  if (!/^[\x21-\x7e]+$/.test(key)) throw new ApiError('INVALID_API_KEY');
  return key;
}

function fromCarrierError(err: CarrierError): ApiError {
  switch (err.kind) {
    case 'credentials_rejected':
      return new ApiError('CARRIER_CREDENTIALS_REJECTED', undefined, { cause: err });
    case 'unavailable':
      return new ApiError('CARRIER_UNAVAILABLE', `the carrier API is unavailable: ${err.message}`, { cause: err });
    case 'request_failed':
      return new ApiError('CARRIER_REQUEST_FAILED', `the carrier refused a setup step (${err.message}); everything created was rolled back`, { cause: err });
  }
}

function rolledBackNote(left: CarrierLeftover[]): string {
  return left.length === 0
    ? 'the carrier objects created were deleted again'
    : `deleting the carrier objects failed for ${left.map((l) => `${l.resource} ${l.id}`).join(', ')}: delete them by hand`;
}

/**
 * POST /v1.0/providers/setup: the carrier adapter creates the carrier-side trunk (rolling back
 * on failure); only then is the provider stored. If storing fails, the carrier objects are
 * deleted again, so a failed setup leaves nothing behind on either side (docs/api.md,
 * "Provider setup"). The API key is passed on and forgotten.
 */
export function providerSetupEndpoint(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store, carriers, config } = deps;
  return async (app) => {
    app.post('/providers/setup', {
      config: { trimStrings: ['credentials.api_key'] },
      schema: {
        tags: ['providers'],
        summary: 'Create the carrier-side SIP trunk from a carrier API key and store the provider (carriers: telnyx)',
        security: SECURITY,
        querystring: AuthQuery,
        body: SetupBody,
        response: { 200: Provider, ...errorResponses },
      },
    }, async (request) => {
      const body = request.body;
      const apiKey = checkApiKey(body.credentials.api_key);
      const adapter = carriers.get(body.carrier.toLowerCase());
      if (!adapter) {
        throw new ApiError('UNSUPPORTED_CARRIER', `carrier ${JSON.stringify(body.carrier)} is not supported; supported: ${[...carriers.keys()].join(', ') || 'none'}`);
      }
      const publicSipAddress = publicSipAddressOf(config.publicSipAddress);
      const log = request.log.child({ carrier: adapter.carrier }) as Logger;
      let result: CarrierSetupResult;
      try {
        result = await adapter.setup({ name: body.name, detail: body.detail ?? '', apiKey, publicSipAddress }, log);
      } catch (err) {
        if (err instanceof CarrierError) {
          log.warn({ kind: err.kind, reason: err.message }, 'carrier setup failed');
          throw fromCarrierError(err);
        }
        throw err;
      }
      try {
        const provider = await store.providers.create({
          type: 'sip',
          hostname: result.hostname,
          tech_prefix: '',
          tech_postfix: '',
          tech_headers: {},
          name: body.name,
          detail: body.detail ?? '',
          codecs: '',
          metadata: result.metadata,
        });
        log.info({ provider_id: provider.id, metadata: result.metadata }, 'provider set up');
        return providerView(provider);
      } catch (err) {
        log.error({ err, metadata: result.metadata }, 'carrier setup succeeded but storing the provider failed');
        const note = rolledBackNote(await result.rollback(log));
        if (err instanceof ApiError && err.reason === 'STORAGE_UNAVAILABLE') {
          throw new ApiError('STORAGE_UNAVAILABLE', `${err.message}; ${note}`, { cause: err });
        }
        throw new ApiError('INTERNAL', `the provider could not be stored; ${note}`, { cause: err });
      }
    });
  };
}
