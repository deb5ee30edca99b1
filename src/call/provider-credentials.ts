import type { Logger } from '../log/logger.ts';
import type { ProviderRecord } from '../routing/model.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { DigestCredentials } from './srf-adapter.ts';

/**
 * A provider's digest credentials for the SIP side (docs/routing.md §4, §9). The sealed password
 * is opened only when a carrier or registrar challenges, and kept open per provider while its
 * sealed text stays the same, so a challenged call costs one AES-GCM decryption per password
 * change, not one per call. The clear password never goes into a log line, a record or an error.
 */
export class ProviderCredentials {
  private readonly opened = new Map<string, { sealed: string; password: string }>();

  constructor(
    private readonly box: SecretBox,
    private readonly logger: Logger,
  ) {}

  of(provider: ProviderRecord): DigestCredentials | undefined {
    if (provider.auth_username === '' || provider.auth_password_sealed === '') return undefined;
    const { id, auth_username: username, auth_password_sealed: sealed } = provider;
    return {
      username,
      password: () => {
        const cached = this.opened.get(id);
        if (cached?.sealed === sealed) return cached.password;
        try {
          const password = this.box.open(sealed, 'auth_password');
          this.opened.set(id, { sealed, password });
          return password;
        } catch (err) {
          // SecretOpenError messages carry no secret: the key id and what failed.
          this.logger.error({ provider_id: id, err: err instanceof Error ? err.message : String(err) }, 'provider password not opened');
          throw err;
        }
      },
    };
  }

  /** Forgets the opened passwords of providers no longer live. */
  retain(live: ReadonlyMap<string, unknown>): void {
    for (const id of this.opened.keys()) if (!live.has(id)) this.opened.delete(id);
  }
}
