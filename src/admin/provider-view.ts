import type { ProviderRecord } from '../routing/model.ts';

/**
 * A provider as the API shows it (docs/api.md §9): the stored record without the sealed
 * password, which never leaves the server, and `auth_password_set` in its place. Every response
 * that carries a provider is built from this, not from the record.
 */
export function providerView(record: ProviderRecord) {
  const { auth_password_sealed, ...rest } = record;
  return { ...rest, auth_password_set: auth_password_sealed !== '' };
}

export type ProviderView = ReturnType<typeof providerView>;
