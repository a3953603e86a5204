import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that could carry a secret anywhere a log line is built. Redaction is the last line of defence:
 * the code never passes credentials to the logger on purpose.
 */
export const REDACT_PATHS = [
  'authorization',
  'req.headers.authorization',
  'headers.authorization',
  'token',
  'bearer',
  'secretAccessKey',
  'sessionToken',
  'SecretAccessKey',
  'SessionToken',
  'Token',
  'credentials',
  'password',
  '*.password',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.SecretAccessKey',
  '*.SessionToken',
  '*.credentials',
  '*.authorization',
  '*.token',
];

/** JSON logs on stdout (or `destination` in tests) with secrets redacted. */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: 'sts-vend' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
