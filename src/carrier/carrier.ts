import type { Logger } from '../log/logger.ts';

export interface CarrierSetupInput {
  name: string;
  detail: string;
  apiKey: string;
  publicSipAddress: { host: string; port: number };
}

/** A carrier-side object a rollback could not delete (to be removed by hand). */
export interface CarrierLeftover {
  resource: string;
  id: string;
}

export interface CarrierSetupResult {
  hostname: string;
  metadata: Record<string, unknown>;
  /**
   * Deletes everything setup created at the carrier (newest first, bounded in time), for when
   * the provider cannot be stored afterwards; resolves with what could not be deleted.
   */
  rollback(log: Logger): Promise<CarrierLeftover[]>;
}

export interface CarrierAdapter {
  readonly carrier: string;
  setup(input: CarrierSetupInput, log: Logger): Promise<CarrierSetupResult>;
}

export type CarrierErrorKind = 'credentials_rejected' | 'unavailable' | 'request_failed';

export class CarrierError extends Error {
  constructor(
    readonly kind: CarrierErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CarrierError';
  }
}
