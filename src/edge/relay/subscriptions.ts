/** SUBSCRIBE/NOTIFY dialogs (RFC 6665 4.1.2, 4.2.2): a NOTIFY with `Subscription-State: terminated` ends one. */
import { getHeader, type SipRequest } from '../sip/message.ts';

export function subscriptionTerminated(notify: SipRequest): boolean {
  return /^\s*terminated\b/i.test(getHeader(notify, 'Subscription-State') ?? '');
}
