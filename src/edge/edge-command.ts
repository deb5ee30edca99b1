/** `outdial edge`: the embedded SIP edge alone, for any drachtio-srf application. */
import type { Config } from '../config/config-schema.ts';
import type { Logger } from '../log/logger.ts';
import { startEdge } from './edge.ts';

export async function runEdgeCommand(config: Config, logger: Logger): Promise<{ close(): Promise<void> }> {
  if (config.edge.secret === '') {
    logger.error('OUTDIAL_EDGE_SECRET (or --edge-secret) is required for `outdial edge`');
    process.stderr.write('outdial: OUTDIAL_EDGE_SECRET (or --edge-secret) is required for `outdial edge`\n');
    process.exitCode = 2;
    return { close: async () => undefined };
  }
  const edge = await startEdge({
    sip: config.sip,
    wire: config.edge,
    logger,
    untrusted: { trustedSources: config.edge.trustedSources, action: config.sip.untrustedAction },
  });
  logger.info(
    { sip: `${edge.sipAddress.host}:${edge.sipAddress.port}`, wire: `${edge.wireAddress.host}:${edge.wireAddress.port}` },
    'outdial edge ready: point drachtio-srf at the wire address',
  );
  return edge;
}
