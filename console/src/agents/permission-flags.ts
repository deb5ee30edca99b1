/**
 * Agent permissions are VoIPBIN's bit flags (docs/api.md "Permissions"). The console shows and
 * edits them by name: a flag is on when all of its bits are set, so the composite flags
 * (ProjectAll, CustomerAll, All) follow the single ones. Bits no flag names are kept as they are.
 */
export interface PermissionFlag {
  name: string;
  bits: number;
  help: string;
}

export const PERMISSION_FLAGS: readonly PermissionFlag[] = [
  { name: 'ProjectSuperAdmin', bits: 0x0001, help: 'every console page: providers, routes, calls, agents' },
  { name: 'ProjectAll', bits: 0x000f, help: 'every project permission' },
  { name: 'CustomerAgent', bits: 0x0010, help: '' },
  { name: 'CustomerAdmin', bits: 0x0020, help: '' },
  { name: 'CustomerManager', bits: 0x0040, help: '' },
  { name: 'CustomerAll', bits: 0x00f0, help: 'every customer permission' },
  { name: 'All', bits: 0xffff, help: 'every bit' },
];

export function hasFlag(permission: number, flag: PermissionFlag): boolean {
  return (permission & flag.bits) === flag.bits;
}

/** The permission with a flag turned on or off (only that flag's bits change). */
export function withFlag(permission: number, flag: PermissionFlag, on: boolean): number {
  return on ? (permission | flag.bits) & 0xffff : permission & ~flag.bits & 0xffff;
}

/**
 * The permission by name, each bit named once by the widest flag that covers it:
 * 0x0021 → ProjectSuperAdmin, CustomerAdmin; 0x00F1 → ProjectSuperAdmin, CustomerAll; bits no
 * flag names are shown in hex.
 */
export function permissionNames(permission: number): string[] {
  if (permission === 0) return ['none'];
  let left = permission;
  const names: string[] = [];
  const byWidth = [...PERMISSION_FLAGS].sort((a, b) => popcount(b.bits) - popcount(a.bits));
  for (const flag of byWidth) {
    if ((left & flag.bits) === flag.bits && flag.bits !== 0) {
      names.push(flag.name);
      left &= ~flag.bits;
    }
  }
  const order = (name: string) => PERMISSION_FLAGS.findIndex((f) => f.name === name);
  names.sort((a, b) => order(a) - order(b));
  if (left !== 0) names.push(hex(left));
  return names;
}

export function hex(permission: number): string {
  return `0x${permission.toString(16).toUpperCase().padStart(4, '0')}`;
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v !== 0; v &= v - 1) count++;
  return count;
}
