/**
 * Redaction, the last line of defence of the logs: every path of REDACT_PATHS is censored in the line written,
 * whichever half does it (pino's exact paths, or redactNested for the `*.` names), the caller's objects are never
 * changed, and an Error keeps serialising as one.
 */
import fc from 'fast-check';
import { createLogger, redactNested, REDACT_PATHS } from '../../src/observability/logger';
import { propertyParams } from '../helpers/property';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

/** A logger writing its lines into an array. */
function capture(): { logger: ReturnType<typeof createLogger>; raw: string[] } {
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void raw.push(s) } });
  return { logger, raw };
}

/** The object holding SECRET at `path` (`*` stands for any field name: `ctx` here). */
function at(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key === '*' ? 'ctx' : key]: inner }), value) as Record<string, unknown>;
}

const get = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k === '*' ? 'ctx' : k], obj);

it.each(REDACT_PATHS)('censors %s', (path) => {
  const { logger, raw } = capture();
  const given = at(path, SECRET);
  const before = JSON.stringify(given);
  logger.info({ ...given, requestId: 'r1' }, 'line');
  expect(raw).toHaveLength(1);
  expect(raw[0]).not.toContain(SECRET);
  const line = JSON.parse(raw[0]!) as Record<string, unknown>;
  expect(get(line, path)).toBe('[redacted]');
  expect(line.requestId).toBe('r1');
  // The caller's object is as it was.
  expect(JSON.stringify(given)).toBe(before);
});

it('censors a secret field of an Error and keeps the Error readable', () => {
  const { logger, raw } = capture();
  const err = Object.assign(new Error('AssumeRole failed'), { token: SECRET, code: 'AccessDenied' });
  logger.error({ err }, 'failed');
  expect(raw[0]).not.toContain(SECRET);
  const line = JSON.parse(raw[0]!) as { err: Record<string, unknown> };
  expect(line.err).toMatchObject({ message: 'AssumeRole failed', code: 'AccessDenied', token: '[redacted]', type: 'Error' });
  expect(String(line.err.stack)).toContain('AssumeRole failed');
  expect(err.token).toBe(SECRET);
});

it('leaves a line without secret names as the same object', () => {
  const obj = { requestId: 'r1', route: '/v1/vend', nested: { developer: 'alice', tags: ['a'] } };
  expect(redactNested(obj)).toBe(obj);
});

it('never writes a value held under a secret name one level down, whatever else the line holds', () => {
  // The names `*.` stands before; no field is named like any redacted path's last part, so only they censor.
  const names = REDACT_PATHS.filter((p) => p.startsWith('*.')).map((p) => p.slice(2));
  const reserved = new Set(REDACT_PATHS.flatMap((p) => p.split('.')));
  const field = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !reserved.has(k) && k !== '__proto__');
  const plain = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }).filter((s) => !s.includes('zz')), fc.boolean());
  fc.assert(
    fc.property(fc.dictionary(field, fc.oneof(plain, fc.dictionary(fc.oneof(field, fc.constantFrom(...names)), plain))), fc.constantFrom(...names), field, (line, name, top) => {
      const { logger, raw } = capture();
      logger.info({ ...line, [top]: { ...(typeof line[top] === 'object' ? (line[top] as object) : {}), [name]: `zz${SECRET}` } }, 'x');
      expect(raw[0]).not.toContain(SECRET);
    }),
    propertyParams('logger-redaction'),
  );
});
