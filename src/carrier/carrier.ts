import type { Logger } from '../log/logger.ts';
export interface CarrierSetupInput { name: string; detail: string; apiKey: string; publicSipAddress: { host: string; port: number } }
export interface CarrierSetupResult { hostname: string; metadata: Record<string, unknown> }
export interface CarrierAdapter { readonly carrier: string; setup(input: CarrierSetupInput, log: Logger): Promise<CarrierSetupResult> }
export type CarrierErrorKind = 'credentials_rejected' | 'unavailable' | 'request_failed';
export class CarrierError extends Error { constructor(readonly kind: CarrierErrorKind, message: string) { super(message); this.name = 'CarrierError'; } }
