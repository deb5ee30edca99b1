/**
 * What outdial's routing app takes and supports, said the same way everywhere it is said: the
 * 200 to the platform (RFC 3261 §13.3.1.4: Allow and Supported SHOULD be there), the 200 to an
 * OPTIONS (§11.2), and the 405 to a method it does not take (§8.2.1, §21.4.6). docs/routing.md §7.
 */
import { hasOptionTag } from './session-timer.ts';

/** Methods usable in a call's dialog: REFER is refused (docs/routing.md §5), so not listed. */
export const ALLOW_IN_DIALOG = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, MESSAGE, NOTIFY';

/** Methods a new request to outdial may use (the 405's Allow). */
export const ALLOW_OUTSIDE_DIALOG = 'INVITE, ACK, CANCEL, OPTIONS';

/** Option tags outdial implements for the platform (RFC 4028 session timers, RFC 3262 reliable provisionals). */
export const SUPPORTED = 'timer, 100rel';

const NONE: readonly string[] = Object.freeze([]);

/** The option tags of a Require outdial does not implement (answered 420 with Unsupported, §8.2.2.3). */
export function unsupportedRequires(require: string | undefined): readonly string[] {
  if (require === undefined) return NONE;
  const out: string[] = [];
  for (const raw of require.split(',')) {
    const tag = raw.trim().toLowerCase();
    if (tag !== '' && !hasOptionTag(SUPPORTED, tag) && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/**
 * What the platform's INVITE says about reliable provisional responses (RFC 3262 §3):
 * `required` (Require: 100rel) means every provisional but 100 it gets must be reliable;
 * `supported` means a reliable one is welcome; `none` means none may be (docs/routing.md §4).
 */
export type ReliableProvisionals = 'none' | 'supported' | 'required';

export function reliableProvisionals(supported: string | undefined, require: string | undefined): ReliableProvisionals {
  if (hasOptionTag(require, '100rel')) return 'required';
  return hasOptionTag(supported, '100rel') ? 'supported' : 'none';
}

/**
 * Whether a carrier's provisional goes to the platform reliably: always when the platform
 * requires it, when the carrier sent it reliably and the platform supports it (the carrier's
 * early media then keeps its guarantee end to end), never otherwise (the carrier leg still
 * PRACKs it: each leg acknowledges its own, docs/routing.md §4).
 */
export function relayReliably(platform: ReliableProvisionals, carrierRequire: string | undefined): boolean {
  if (platform === 'required') return true;
  return platform === 'supported' && hasOptionTag(carrierRequire, '100rel');
}

/**
 * Methods that exist only inside a dialog: received outside one they name a dialog that does not
 * exist (481): BYE (RFC 3261 §15.1.2), UPDATE (RFC 3311 §5.2), PRACK (RFC 3262 §3), INFO
 * (RFC 6086 §4.2.1: an INFO outside an invite dialog usage MUST get 481).
 */
const DIALOG_ONLY_METHODS = new Set(['BYE', 'UPDATE', 'PRACK', 'INFO']);

export interface MethodRefusal {
  readonly status: 405 | 481;
  readonly headers: Record<string, string>;
}

/**
 * A request for a method the app does not take, outside any dialog it knows. One the SIP stack
 * placed in a dialog, or with a To tag, names a dialog that does not exist here (481, §12.2.2);
 * otherwise the method is not allowed (405 with Allow, §8.2.1). Never 503: that tells the peer
 * outdial is down (RFC 3263 §4.3).
 */
export function refuseMethod(method: string, toHeader: string | undefined, inStackDialog: boolean): MethodRefusal {
  if (inStackDialog || DIALOG_ONLY_METHODS.has(method) || (toHeader !== undefined && /;\s*tag\s*=/i.test(toHeader))) {
    return { status: 481, headers: {} };
  }
  return { status: 405, headers: { Allow: ALLOW_OUTSIDE_DIALOG } };
}
