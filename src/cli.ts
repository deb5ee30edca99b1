import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { StartupError } from './errors.ts';
import { cachedEnvironment } from './call/srf-environment.ts';
import { ENV_VARS } from './config/config-schema.ts';
import { createLogger } from './log/logger.ts';

const USAGE = `usage: outdial <command> [options]

commands:
  start    run the engine: admin API, call routing, and the embedded SIP edge
           (or an external drachtio-server when OUTDIAL_DRACHTIO is set)
  edge     run the embedded SIP edge alone, for any drachtio-srf application

Every OUTDIAL_* variable can also be given as a flag: OUTDIAL_SIP_PORT=5070 is --sip-port 5070.
`;

/** `--sip-port` ↔ OUTDIAL_SIP_PORT, for every variable the config accepts. */
function flagsToEnv(args: string[]): NodeJS.ProcessEnv {
  const options = Object.fromEntries(
    ENV_VARS.map((v) => [v.name.slice('OUTDIAL_'.length).toLowerCase().replaceAll('_', '-'), { type: 'string' as const }]),
  );
  const { values } = parseArgs({ args, options, allowPositionals: false, strict: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [flag, value] of Object.entries(values)) {
    if (typeof value === 'string') env[`OUTDIAL_${flag.toUpperCase().replaceAll('-', '_')}`] = value;
  }
  return env;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'start' && command !== 'edge') {
    process.stdout.write(USAGE);
    process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2;
    return;
  }
  let config;
  try {
    config = loadConfig({ ...process.env, ...flagsToEnv(rest) });
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`outdial: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const logger = createLogger(config.log.level);
  applyHeapGrowth(config.heap.growthPercent);
  // srf reads process.env once per header it parses (docs/performance.md §11)
  if (command === 'start') process.env = cachedEnvironment(process.env);
  let running;
  try {
    running =
      command === 'start'
        ? await (await import('./engine.ts')).startEngine(config, logger)
        : await (await import('./edge/edge-command.ts')).runEdgeCommand(config, logger);
  } catch (err) {
    if (err instanceof StartupError) {
      // A condition the operator must fix (the message names the file): no stack trace.
      process.stderr.write(`outdial: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * docs/performance.md §9: a full GC lets the old generation grow by up to 4× of what survived
 * before the next one. A SIP core's survivors are its calls in progress, so under steady load the
 * resident set climbs to that multiple and stays there; a smaller step keeps it near the live
 * size for more frequent (incremental, concurrent) collections. V8 reads the flag each time it
 * sets the next limit, so setting it at start-up takes effect for the whole process.
 */
function applyHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
