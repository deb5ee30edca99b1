import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line. Request bodies are never logged whole; these are the
 * second line of defence for anything that carries a credential.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'api_key',
  '*.api_key',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'secret',
  '*.secret',
  'accesskey',
  '*.accesskey',
  'old_password',
  '*.old_password',
  'password_hash',
  '*.password_hash',
  'token_hash',
  '*.token_hash',
  'auth_password',
  '*.auth_password',
  'auth_password_sealed',
  '*.auth_password_sealed',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'outdial' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** A logger whose lines tests can read back (one parsed object per line). */
export function createCapturingLogger(level = 'trace'): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const stream = {
    write(chunk: string) {
      raw.push(chunk);
      for (const l of chunk.split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    },
  };
  return { logger: createLogger(level, stream), lines, text: () => raw.join('') };
}
