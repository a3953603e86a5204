/**
 * The little XML the emulator writes: AWS Query protocol responses and error bodies (STS, IAM) and the S3
 * error body for requests refused before they reach the S3 handler. Values are escaped; nothing is parsed.
 */
import type { AwsError } from './aws-error';

/** A node: text (string/number/boolean/Date), nested elements, or a list rendered as repeated elements. */
export type XmlValue = string | number | boolean | Date | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [element: string]: XmlValue;
}

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** Escapes text for element content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** ISO 8601 UTC as AWS writes it: whole seconds without a fraction, otherwise with milliseconds. */
export function awsTimestamp(d: Date): string {
  const iso = d.toISOString();
  return d.getUTCMilliseconds() === 0 ? iso.replace('.000Z', 'Z') : iso;
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (value instanceof Date) return `<${name}>${awsTimestamp(value)}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value).map(([k, v]) => render(k, v)).join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<{Action}Response xmlns=...><{Action}Result>...</{Action}Result><ResponseMetadata>...</...>`. */
export function queryResponseXml(action: string, xmlns: string, result: XmlObject | undefined, requestId: string): string {
  const body = result === undefined ? '' : render(`${action}Result`, result);
  return (
    `<${action}Response xmlns="${xmlns}">${body}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`, as STS and IAM send. */
export function queryErrorXml(err: AwsError, xmlns: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${xmlns}">` +
    render('Error', { Type: err.type, Code: err.code, Message: err.message }) +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}

/** S3's REST error body: `<Error><Code/><Message/><RequestId/></Error>`. */
export function restErrorXml(err: AwsError, requestId: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + render('Error', { Code: err.code, Message: err.message, RequestId: requestId });
}
