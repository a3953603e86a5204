/**
 * S3's wire details shared by the bucket and object operations: the error type with S3's codes, XML
 * building, and the common response headers.
 */
import type { ServerResponse } from 'node:http';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An S3 error answer: HTTP status, S3 `Code`, and extra elements S3 adds (`BucketName`, `Key`, ...). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const noSuchBucket = (bucket: string): S3Error =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string): S3Error => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const notImplemented = (what: string): S3Error =>
  new S3Error(501, 'NotImplemented', `${what} is not implemented by the local AWS emulator`);
export const invalidArgument = (message: string, name: string, value: string): S3Error =>
  new S3Error(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** XML children: a string is escaped text; an array repeats the element; undefined omits it. */
export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

/** Serialises `{Name: value}` children into XML, in insertion order (S3 clients do not rely on order, but keep AWS's). */
export function toXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) out += element(name, value);
  return out;
}

function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
  if (typeof value === 'object') return `<${name}>${toXml(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Sends an XML document whose root element carries S3's namespace. */
export function sendXml(res: ServerResponse, status: number, root: string, body: XmlNode): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${toXml(body)}</${root}>`;
  res.statusCode = status;
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', Buffer.byteLength(xml));
  res.end(xml);
}

/** Sends an S3 error; HEAD answers carry the status only, as S3's do. */
export function sendError(res: ServerResponse, method: string, err: S3Error, resource: string, requestId: string): void {
  if (method === 'HEAD') {
    res.statusCode = err.status;
    res.end();
    return;
  }
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error>${toXml({ Code: err.code, Message: err.message, ...err.extra, Resource: resource, RequestId: requestId })}</Error>`;
  res.statusCode = err.status;
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', Buffer.byteLength(xml));
  res.end(xml);
}

/** ISO-8601 with milliseconds, the timestamp format of S3 XML bodies. */
export const isoTime = (d: Date): string => d.toISOString();

/** RFC 7231 date, the format of Last-Modified. */
export const httpTime = (d: Date): string => d.toUTCString();
