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

const CENSOR = '[redacted]';
// pino's `*.` wildcards wrap the stringifier of every field of every line, which cost more than the rest of a
// line's serialisation: the one-level names are redacted by redactNested instead, before serialisation.
const NESTED = new Set(REDACT_PATHS.filter((p) => p.startsWith('*.')).map((p) => p.slice(2)));
const EXACT = REDACT_PATHS.filter((p) => !p.startsWith('*.'));

/**
 * A log object whose fields hold no NESTED name one level down (what `*.name` means to pino), censored in a copy
 * so the caller's objects are never changed. A copy keeps its prototype and every own property, so an Error still
 * serialises as one. Untouched when nothing matches, which is almost always.
 */
export function redactNested(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === null || typeof value !== 'object') continue;
    let copy: object | undefined;
    for (const inner of Object.keys(value)) {
      if (!NESTED.has(inner)) continue;
      if (!copy) {
        copy = Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value)) as object;
        // Node 22's V8 makes an Error's `stack` an accessor reading the original's internal slot: on the copy
        // it would read empty, so the copy holds the text itself.
        if (value instanceof Error) Object.defineProperty(copy, 'stack', { value: value.stack, enumerable: false, writable: true, configurable: true });
      }
      Object.defineProperty(copy, inner, { value: CENSOR, enumerable: true, writable: true, configurable: true });
    }
    if (copy) {
      out ??= { ...obj };
      out[key] = copy;
    }
  }
  return out ?? obj;
}

/** JSON logs on stdout (or `destination` in tests) with secrets redacted. */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: 'sts-vend' },
    redact: { paths: EXACT, censor: CENSOR },
    formatters: { log: redactNested },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
