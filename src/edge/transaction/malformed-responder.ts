/**
 * The stateless answer to a request the parser refused (RFC 3261 8.2, 16.3, 21.5.20): 400 with
 * the reason, 413 for an over-long request (as sofia-sip's nta does), 505 for another SIP
 * version. It goes where any response to that request would go (18.2.2, RFC 3581: the source
 * address, docs/edge-transport.md §4). Responses, ACKs and requests without a Via are dropped.
 */
import type { Logger } from '../../log/logger.ts';
import { getHeader, type SipRequest } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow } from '../sip/transport.ts';
import { newTag } from '../sip-identity.ts';
import type { TransactionLayer } from './transaction-layer.ts';

export function answerMalformed(
  layer: Pick<TransactionLayer, 'stampReceived' | 'responseTarget' | 'sendStateless'>,
  logger: Logger,
  reason: string,
  flow: Flow,
  partial: SipRequest | undefined,
  status = 400,
  toTag = newTag(),
): void {
  if (!partial || partial.method === 'ACK' || !getHeader(partial, 'Via')) return;
  try {
    layer.stampReceived(partial, flow);
    const phrase =
      status === 413 ? 'Request Entity Too Large' : status === 505 ? 'Version Not Supported' : `Bad Request (${reason.replace(/[\r\n]/g, ' ').slice(0, 80)})`;
    const res = createResponse(partial, status, phrase, toTag);
    void layer.sendStateless(res, layer.responseTarget(partial, flow)).catch((err: unknown) => logger.debug({ err }, 'malformed-request answer not sent'));
  } catch (err) {
    logger.debug({ err }, 'malformed-request answer not sent');
  }
}

