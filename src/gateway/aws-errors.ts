/**
 * Refusals in the shape the client's SDK parses for the service it called: REST-XML `<Error>` (S3), the
 * Query protocol's `<ErrorResponse>` (STS, IAM, SNS...), JSON `__type` (DynamoDB, Logs...), REST-JSON with
 * `x-amzn-ErrorType` (Lambda); each with the code those SDKs know, so a refusal reads as AWS's would.
 */
import type { ServerResponse } from 'node:http';
import type { Protocol } from './services';

export type RefusalKind =
  | 'missing'
  | 'malformed'
  | 'unsupported'
  | 'unknownKey'
  | 'signature'
  | 'skew'
  | 'payloadHash'
  | 'revoked'
  | 'expired'
  | 'denied'
  | 'throttled'
  | 'unavailable'
  | 'tooLarge'
  | 'unknownService'
  | 'badHost'
  | 'invalidRequest'
  | 'incompleteBody'
  | 'presignExpired'
  | 'presignMalformed'
  | 'unsignedHeader';

/** A refusal the gateway answers itself: nothing was forwarded. */
export class GatewayRefusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'GatewayRefusal';
  }
}

type Codes = { status: number; xml: string; json: string };
const TABLE: Record<RefusalKind, Codes> = {
  missing: { status: 403, xml: 'MissingAuthenticationToken', json: 'MissingAuthenticationTokenException' },
  malformed: { status: 400, xml: 'IncompleteSignature', json: 'IncompleteSignatureException' },
  unsupported: { status: 501, xml: 'NotImplemented', json: 'NotImplementedException' },
  unknownKey: { status: 403, xml: 'InvalidClientTokenId', json: 'UnrecognizedClientException' },
  signature: { status: 403, xml: 'SignatureDoesNotMatch', json: 'InvalidSignatureException' },
  skew: { status: 403, xml: 'SignatureDoesNotMatch', json: 'InvalidSignatureException' },
  payloadHash: { status: 400, xml: 'XAmzContentSHA256Mismatch', json: 'InvalidSignatureException' },
  revoked: { status: 403, xml: 'AccessDenied', json: 'AccessDeniedException' },
  expired: { status: 403, xml: 'ExpiredToken', json: 'ExpiredTokenException' },
  denied: { status: 403, xml: 'AccessDenied', json: 'AccessDeniedException' },
  throttled: { status: 400, xml: 'Throttling', json: 'ThrottlingException' },
  unavailable: { status: 503, xml: 'ServiceUnavailable', json: 'ServiceUnavailableException' },
  tooLarge: { status: 413, xml: 'RequestEntityTooLarge', json: 'RequestEntityTooLargeException' },
  unknownService: { status: 400, xml: 'InvalidAction', json: 'UnknownOperationException' },
  badHost: { status: 400, xml: 'InvalidRequest', json: 'InvalidRequestException' },
  invalidRequest: { status: 400, xml: 'InvalidRequest', json: 'InvalidRequestException' },
  incompleteBody: { status: 400, xml: 'IncompleteBody', json: 'SerializationException' },
  presignExpired: { status: 403, xml: 'AccessDenied', json: 'AccessDeniedException' },
  presignMalformed: { status: 400, xml: 'AuthorizationQueryParametersError', json: 'IncompleteSignatureException' },
  unsignedHeader: { status: 403, xml: 'AccessDenied', json: 'AccessDeniedException' },
};

/** S3 words some of these differently (its own error code list). */
const S3: Partial<Record<RefusalKind, { status?: number; code: string }>> = {
  missing: { code: 'AccessDenied' },
  malformed: { code: 'AuthorizationHeaderMalformed' },
  unknownKey: { code: 'InvalidAccessKeyId' },
  skew: { code: 'RequestTimeTooSkewed' },
  expired: { status: 400, code: 'ExpiredToken' },
  throttled: { status: 503, code: 'SlowDown' },
  tooLarge: { status: 400, code: 'EntityTooLarge' },
  unknownService: { code: 'InvalidRequest' },
};

const escapeXml = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The status and code a refusal answers for a protocol (also what the audit line records). */
export function refusalCode(kind: RefusalKind, protocol: Protocol): { status: number; code: string } {
  const row = TABLE[kind];
  if (protocol === 'rest-xml') return { status: S3[kind]?.status ?? row.status, code: S3[kind]?.code ?? row.xml };
  return { status: row.status, code: protocol === 'query' ? row.xml : row.json };
}

/** Writes the refusal; `jsonVersion` picks the JSON content type (`application/x-amz-json-1.0|1.1`). */
export function writeRefusal(res: ServerResponse, r: GatewayRefusal, protocol: Protocol, requestId: string, jsonVersion = '1.1'): { status: number; code: string } {
  const { status, code } = refusalCode(r.kind, protocol);
  const headers: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amzn-requestid': requestId };
  if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter);
  let body: string;
  if (protocol === 'rest-xml') {
    headers['content-type'] = 'application/xml';
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(r.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
  } else if (protocol === 'query') {
    headers['content-type'] = 'text/xml';
    const type = status >= 500 ? 'Receiver' : 'Sender';
    body = `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(r.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  } else {
    headers['content-type'] = protocol === 'json' ? `application/x-amz-json-${jsonVersion}` : 'application/json';
    headers['x-amzn-errortype'] = code;
    body = JSON.stringify({ __type: code, message: r.message });
  }
  if (!res.headersSent) {
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }
  return { status, code };
}
